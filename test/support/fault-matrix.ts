/**
 * The fault matrix's shared parts: how big a run is (`VALET_SOAK=1` scales it up for
 * `pnpm test:soak`), the scenarios both clients (Node, Chromium) go through, and the recorder
 * that writes one row per run to `test-output/fault-matrix/<suite>.json` (soak:
 * `test-output/fault-matrix-soak/`), which `node scripts/fault-table.mjs` renders as the tables
 * in docs/reliability.md.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { FaultKind, FaultRule, PartPutRecord, ProxiedRequest } from './fault-proxy.js'
import { classify } from './key-calls.js'

/** `pnpm test:soak` sets it: more parts per upload, each scenario repeated. */
export const SOAK = process.env.VALET_SOAK === '1'

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`)
  return value
}

/** Parts of 5 MiB per upload: 4 in `pnpm test`, 16 in the soak (override: VALET_SOAK_PARTS). */
export const FAULT_PARTS = SOAK ? positive('VALET_SOAK_PARTS', 16) : 4
/** Runs of each scenario: 1 in `pnpm test`, 3 in the soak (override: VALET_SOAK_REPEAT). */
export const FAULT_REPEAT = SOAK ? positive('VALET_SOAK_REPEAT', 3) : 1
/** Part PUTs in flight per upload. */
export const FAULT_CONCURRENCY = 3

/** One run of one scenario, as the tables show it. */
export interface MatrixRow {
  storage: 'swift' | 'azurite'
  client: 'node' | 'chromium'
  /** Where the fault proxy stood. */
  between: 'client and storage' | 'client and key server'
  /** Human-readable, the table's row label. */
  fault: string
  /** Faults the proxy injected (over both runs when the upload was resumed). */
  faults: number
  /** Part PUTs that reached the storage proxy. */
  partPuts: number
  /** Parts of the upload. */
  parts: number
  /** `complete`, or `failed: <code>; resumed: complete`. */
  outcome: string
  /** Part bytes the client sent beyond the file's size. */
  bytesResent: number
  ms: number
  /** Set once every assertion of the run held: a row without it comes from a failing run. */
  passed: boolean
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const MATRIX_DIR = join(ROOT, 'test-output', SOAK ? 'fault-matrix-soak' : 'fault-matrix')

/** How a suite's uploads were shaped, printed above its table. */
export interface MatrixSetup {
  partSize: number
  parts: number
  concurrency: number
  repeat: number
  note?: string
}

/** One `MATRIX_DIR/<suite>.json`, what scripts/fault-table.mjs reads. */
export interface SuiteFile {
  suite: string
  finishedAt: string
  soak: boolean
  setup: MatrixSetup
  rows: MatrixRow[]
}

/** Collects a suite's rows; `write()` (in `afterAll`) puts them in `MATRIX_DIR/<suite>.json`. */
export class MatrixRecorder {
  readonly rows: MatrixRow[] = []

  constructor(
    readonly suite: string,
    readonly setup: MatrixSetup,
  ) {}

  /** Adds a row (not yet passed) and returns it, to fill in and mark passed as the run goes. */
  add(row: Omit<MatrixRow, 'passed'>): MatrixRow {
    const full = { ...row, passed: false }
    this.rows.push(full)
    return full
  }

  async write(): Promise<void> {
    if (this.rows.length === 0) return
    await mkdir(MATRIX_DIR, { recursive: true })
    const file = join(MATRIX_DIR, `${this.suite}.json`)
    const body: SuiteFile = { suite: this.suite, finishedAt: new Date().toISOString(), soak: SOAK, setup: this.setup, rows: this.rows }
    await writeFile(file, `${JSON.stringify(body, null, 2)}\n`)
    const mib = (n: number) => (n / 2 ** 20).toFixed(1)
    console.log(
      [`[fault matrix] ${this.suite} → ${file}`, ...this.rows.map((r) => `  ${r.passed ? 'ok ' : 'FAIL'} ${r.storage} ${r.client} | ${r.fault} | faults ${r.faults} | part PUTs ${r.partPuts} | ${r.outcome} | re-sent ${mib(r.bytesResent)} MiB | ${(r.ms / 1000).toFixed(1)} s`)].join('\n'),
    )
  }
}

/**
 * Storage-side faults, injected by the proxy on every 2nd part PUT (retries are part PUTs too):
 * with no other failure, N parts take 2N − 1 PUTs and N − 1 faults.
 *
 * `mustComplete`: faults the upload must ride out, per the design's retry rules (network
 * errors, 5xx, 429/503 with Retry-After, stalls once the stall timer fires). Damaged bytes and an
 * answer whose ETag is not our MD5 may end either way: completed, or a typed failure with
 * resumable state (which the test then resumes). The tables show which.
 *
 * `storages`: the proxy answers status faults and stalls itself, so the storage behind plays no
 * part: those run against Swift only. Faults storage takes part in (a truncated body, damaged
 * bytes, its ETag or Content-MD5, a part stored but never acknowledged) run against both.
 */
export const STORAGE_FAULTS: { kind: FaultKind; label: string; mustComplete: boolean; storages: readonly ('swift' | 'azurite')[] }[] = [
  { kind: 'reset-mid-body', label: 'connection reset mid-body', mustComplete: true, storages: ['swift', 'azurite'] },
  { kind: 'status-500', label: '500', mustComplete: true, storages: ['swift'] },
  { kind: 'status-503-retry-after', label: '503 + Retry-After: 1', mustComplete: true, storages: ['swift'] },
  { kind: 'status-429-retry-after', label: '429 + Retry-After: 1', mustComplete: true, storages: ['swift'] },
  { kind: 'stall', label: 'stall (no answer) past stallTimeout', mustComplete: true, storages: ['swift'] },
  { kind: 'flip-bytes', label: 'flipped byte in the body', mustComplete: false, storages: ['swift', 'azurite'] },
  { kind: 'wrong-etag', label: 'success with a wrong ETag (Azure: Content-MD5)', mustComplete: false, storages: ['swift', 'azurite'] },
  { kind: 'drop-response', label: 'answer lost after storage stored the part', mustComplete: true, storages: ['swift', 'azurite'] },
]

/** A part PUT that always fails: the typed-failure-and-resume path, for the table too. */
export const ALWAYS_FAILS_LABEL = 'part 3 always 500 (retries: 2, 1 in flight)'

/**
 * Keys that expire mid-part: 4 s keys over a 3 MiB/s link (3 parts in flight: 5 s each).
 * Storage checks a key when the request arrives, so a part whose key expires while its body
 * streams is stored; what must never happen is a PUT *starting* on an expired key. Its "faults"
 * are the part PUTs whose key expired before their answer came.
 */
export const KEY_EXPIRY = { label: 'keys expire mid-part (4 s keys, 3 MiB/s link)', keyTtl: 4, bandwidth: 3 * 2 ** 20 }

/** A {@link KEY_EXPIRY} run's faults: the part PUTs whose key expired while they were on the wire. */
export const keysExpiredOnTheWire = (parts: readonly PartPutRecord[]): number => parts.filter((p) => p.endedAt! > p.keyExpiresAt!).length

/** A {@link KEY_EXPIRY} run's part PUTs: none started on an expired key, one at least outlived its key, each part sent once. */
export function expectNoPutOnExpiredKey(parts: readonly PartPutRecord[], partCount: number): void {
  for (const p of parts) expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} started on an expired key`).toBeLessThan(p.keyExpiresAt!)
  // 3 parts share the link at first: the last of them streams for ≥ 5 s, past its key (≤ 4 s).
  expect(keysExpiredOnTheWire(parts), 'a key expired while its part was on the wire').toBeGreaterThanOrEqual(1)
  expect(parts.map((p) => p.partNumber).sort((a, b) => a - b), 'each part sent once').toEqual(Array.from({ length: partCount }, (_, i) => i + 1))
}

/** Matches `applies` requests for `ms` from the first request that `starts` the window. */
export function forAWhile(ms: number, starts: (r: ProxiedRequest) => boolean, applies: (r: ProxiedRequest) => boolean): (r: ProxiedRequest) => boolean {
  let from: number | undefined
  return (r) => {
    if (from === undefined && starts(r)) from = r.arrivedAt
    return from !== undefined && r.arrivedAt - from < ms && applies(r)
  }
}

const keyOperation = (r: ProxiedRequest) => classify(r.method, r.url)
const isKeyCall = (r: ProxiedRequest): boolean => keyOperation(r) !== 'other'
const isSign = (r: ProxiedRequest): boolean => keyOperation(r) === 'sign'

/**
 * The client's key-endpoint timeout in the stall scenario (the stall outlasts it). Only there:
 * elsewhere the default (30 s) stands, so a slow complete on a busy machine is not retried.
 */
export const KEY_REQUEST_TIMEOUT = 2000

export interface KeyFaultScenario {
  id: string
  label: string
  /** Fresh rules for one run (they keep state). */
  rules(): FaultRule[]
  /** At least this many faults must have been injected. */
  minFaults: number
  /** 4 s keys and a slow link (5 MiB/s): keys must be signed again mid-upload. */
  shortKeys?: boolean
  /** The client's `requestTimeout` for this scenario. */
  requestTimeout?: number
  /** A 500 from complete is the app's onComplete throwing: not retried, by design. */
  expect: 'complete' | 'typed failure, then resumed'
}

/**
 * Faults between the client and the key endpoint (the proxy in front of the app: in Chromium
 * it also serves the page, so the endpoint is same-origin as in production). Every scenario must
 * end complete except the 500 on complete, which the client deliberately does not retry.
 */
export function keyFaultScenarios(): KeyFaultScenario[] {
  return [
    {
      id: 'key-503',
      label: '503 + Retry-After: 1 on every call for 3 s',
      rules: () => [{ kind: 'status-503-retry-after', match: forAWhile(3000, isSign, isKeyCall) }],
      minFaults: 2,
      expect: 'complete',
    },
    {
      id: 'key-500',
      label: '500 on every call but complete for 3 s',
      rules: () => [{ kind: 'status-500', match: forAWhile(3000, isSign, (r) => isKeyCall(r) && keyOperation(r) !== 'complete') }],
      minFaults: 2,
      expect: 'complete',
    },
    {
      id: 'key-reset',
      label: 'connection reset, every 2nd call (3 times)',
      rules: () => [{ kind: 'reset-mid-body', match: isKeyCall, every: 2, times: 3 }],
      minFaults: 2,
      expect: 'complete',
    },
    {
      id: 'key-stall',
      label: `stall past requestTimeout (${KEY_REQUEST_TIMEOUT / 1000} s), every 2nd call (3 times)`,
      rules: () => [{ kind: 'stall', match: isKeyCall, every: 2, times: 3 }],
      minFaults: 2,
      requestTimeout: KEY_REQUEST_TIMEOUT,
      expect: 'complete',
    },
    {
      id: 'key-down',
      label: 'down 5 s (connection refused) at the 2nd sign call; 4 s keys, 5 MiB/s link',
      rules: () => {
        let signs = 0
        return [{ kind: 'outage', outageMs: 5000, times: 1, match: (r) => isSign(r) && ++signs === 2 }]
      },
      minFaults: 1,
      shortKeys: true,
      expect: 'complete',
    },
    {
      id: 'key-complete-lost',
      label: 'answer to complete lost (after it completed)',
      rules: () => [{ kind: 'drop-response', match: (r) => keyOperation(r) === 'complete', times: 1 }],
      minFaults: 1,
      expect: 'complete',
    },
    {
      id: 'key-complete-500',
      label: '500 on complete, once (by design not retried)',
      rules: () => [{ kind: 'status-500', match: (r) => keyOperation(r) === 'complete', times: 1 }],
      minFaults: 1,
      expect: 'typed failure, then resumed',
    },
  ]
}

/** Typed codes a run under a storage fault may fail with (the state then says what to do next). */
export const FAILURE_CODES = ['retries_exhausted', 'storage_rejected', 'checksum_mismatch', 'network_error']
