/**
 * The fault matrix: `@valet/client` in Node against real Swift s3api (every fault) and Azurite
 * (the faults storage takes part in) through the fault proxy, each fault injected on every 2nd
 * part PUT of a 4-part upload (retries are part PUTs too, so a retry can be hit again: with no
 * other failure that is 3 faults in 7 PUTs). For each run:
 *   - the upload completes and storage holds exactly the source (SHA-256 read back through the
 *     storage's own API), no multipart upload left open, no resume state left; or
 *   - it fails with a typed ValetError, no object exists, the resume state is kept, and a second
 *     upload of the same source with the same store continues that upload and completes;
 *   - and in every case, every complete call the key endpoint saw named all parts 1..partCount.
 * One row per run goes to test-output/fault-matrix/node-storage.json (scripts/fault-table.mjs
 * renders them). `pnpm test:soak` (VALET_SOAK=1) runs more parts, each scenario several times.
 * Faults between the client and the key endpoint: key-faults.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { createUploader, isValetError, type UploaderOptions } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { azuriteCase, expectStored, swiftCase } from '../support/storages.js'
import type { FaultKind, PartPutRecord } from '../support/fault-proxy.js'
import {
  ALWAYS_FAILS_LABEL,
  FAILURE_CODES,
  FAULT_CONCURRENCY,
  FAULT_PARTS,
  FAULT_REPEAT,
  KEY_EXPIRY,
  keysExpiredOnTheWire,
  expectNoPutOnExpiredKey,
  MatrixRecorder,
  STORAGE_FAULTS,
} from '../support/fault-matrix.js'
import { AUTH, inspectableStore, proxiedStack } from './harness.js'
import { completeCallsNameEveryPart } from '../support/key-calls.js'

const PART = 5 * MiB
/** Equal parts, so every fault costs the same and the table is comparable run to run. */
const PARTS = FAULT_PARTS
const SIZE = PARTS * PART
/** One source for every run (each run is its own upload to its own key). */
const DATA = generate(SIZE, 300)
const DATA_SHA256 = sha256(DATA)
/** The stall fault's answer never comes: the client's own stall timer must give up. */
const STALL_TIMEOUT = 1500
/** Every 2nd part PUT of N parts: PUTs 2, 4 ... 2N − 2 of 2N − 1. */
const FAULTS_PER_RUN = PARTS - 1

const recorder = new MatrixRecorder('node-storage', { partSize: PART, parts: PARTS, concurrency: FAULT_CONCURRENCY, repeat: FAULT_REPEAT })
afterAll(() => recorder.write())

/**
 * The client waited as told before sending a faulted part again: `Retry-After: 1` on 503/429,
 * the stall timeout on a stall.
 */
function expectRetryTiming(kind: FaultKind, parts: PartPutRecord[]): void {
  const wait = kind === 'status-503-retry-after' || kind === 'status-429-retry-after' ? 1000 : kind === 'stall' ? STALL_TIMEOUT : undefined
  if (wait === undefined) return
  for (const faulted of parts.filter((p) => p.fault === kind)) {
    const next = parts.find((p) => p.partNumber === faulted.partNumber && p.attempt === faulted.attempt + 1)
    expect(next, `part ${faulted.partNumber} was sent again`).toBeDefined()
    if (kind === 'stall') {
      // The stall timer restarts on every progress event, so it ends at least its length after
      // the request started (give 100 ms for the request to reach the proxy on a busy machine).
      expect(faulted.endedAt! - faulted.arrivedAt, `part ${faulted.partNumber}: the client gave up too early`).toBeGreaterThanOrEqual(wait - 100)
      expect(next!.arrivedAt - faulted.arrivedAt).toBeGreaterThanOrEqual(wait - 100)
    } else {
      expect(next!.arrivedAt - faulted.endedAt!, `part ${faulted.partNumber} retried before Retry-After`).toBeGreaterThanOrEqual(wait - 5)
    }
  }
}

describe.each([swiftCase, azuriteCase].map((make) => [make().name, make] as const))('%s: fault matrix', (name, makeCase) => {
  const storage = makeCase()

  it.each(STORAGE_FAULTS.filter((m) => m.storages.includes(name)).map((m) => [m.kind, m] as const))('%s on every 2nd part PUT', async (kind, { mustComplete, label }) => {
    for (let run = 0; run < FAULT_REPEAT; run++) await faultRun(kind, label, mustComplete)
  })

  async function faultRun(kind: FaultKind, label: string, mustComplete: boolean): Promise<void> {
    const stack = await proxiedStack(name, { rules: [{ kind, every: 2 }] })
    try {
      const data = DATA
      const store = inspectableStore()
      const options: UploaderOptions = {
        endpoint: stack.keys.endpoint,
        concurrency: FAULT_CONCURRENCY,
        partSize: PART,
        headers: AUTH,
        resume: store,
        ...(kind === 'stall' ? { stallTimeout: STALL_TIMEOUT } : {}),
      }
      const t0 = Date.now()
      const outcome = await createUploader(options)
        .upload(data, { name: `${kind}.bin` })
        .done.then((result) => ({ result }), (error: unknown) => ({ error }))
      const { stats } = stack.proxy
      const created = stack.keys.of('create')[0]!
      expect(created.response).toMatchObject({ partCount: PARTS, partSize: PART })
      const key: string = created.response.key
      const row = recorder.add({
        storage: name,
        client: 'node',
        between: 'client and storage',
        fault: label,
        faults: stats.faults[kind],
        partPuts: stats.partPuts,
        parts: PARTS,
        outcome: 'error' in outcome ? `failed: ${isValetError(outcome.error) ? outcome.error.code : String(outcome.error)}` : 'complete',
        bytesResent: stack.proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      })

      // Never a complete call with a missing part.
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })

      if ('result' in outcome) {
        // The fault really happened, on several parts or retries.
        expect(stats.faults[kind]).toBeGreaterThanOrEqual(FAULTS_PER_RUN)
        expectRetryTiming(kind, stats.parts)
        expect(outcome.result.key).toBe(key)
        await expectStored(storage, key, { size: SIZE, sha256: DATA_SHA256 })
        expect(outcome.result.size).toBe(SIZE)
        expect(store.states.size).toBe(0)
        row.outcome += ', sha256 ok'
        row.passed = true
        return
      }

      const { error } = outcome
      expect(stats.faults[kind]).toBeGreaterThanOrEqual(1)
      if (mustComplete) {
        // Fails the test with the client's own words.
        expect.fail(`${name} ${kind}: the upload should ride out this fault, but failed: ${isValetError(error) ? `${error.code}: ${error.message}` : String(error)}`)
      }
      expect(isValetError(error), String(error)).toBe(true)
      expect(FAILURE_CODES).toContain(isValetError(error) ? error.code : '')
      // Nothing half-done is visible, and the upload can be continued.
      expect(await storage.read(key)).toBeUndefined()
      expect([...store.states.values()].map((s) => s.uploadId)).toEqual([created.response.uploadId])
      stack.proxy.rules = []
      const resumed = await createUploader(options).upload(data, { name: `${kind}.bin` }).done
      expect(resumed.uploadId).toBe(created.response.uploadId)
      expect(stack.keys.of('create')).toHaveLength(1)
      expect(resumed.key).toBe(key)
      await expectStored(storage, key, { size: SIZE, sha256: DATA_SHA256 })
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
      expect(store.states.size).toBe(0)
      row.outcome += '; resumed: complete, sha256 ok'
      row.bytesResent = stack.proxy.partBytesIn() - SIZE // both runs
      row.partPuts = stats.partPuts
      row.ms = Date.now() - t0
      row.passed = true
    } finally {
      await stack.close()
    }
  }

  it('a part that always fails: typed retries_exhausted, resumable state; resume sends only what is missing', async () => {
    for (let run = 0; run < FAULT_REPEAT; run++) await alwaysFailsRun()
  })

  async function alwaysFailsRun(): Promise<void> {
    const stack = await proxiedStack(name, { rules: [{ kind: 'status-500', match: (r) => r.partNumber === 3 }] })
    try {
      const store = inspectableStore()
      // One PUT at a time, so the outcome is exact: parts 1-2 stored, part 3 refused retries + 1
      // times, the later parts never started.
      const options: UploaderOptions = { endpoint: stack.keys.endpoint, concurrency: 1, partSize: PART, headers: AUTH, resume: store, retries: 2, retryDelay: 50 }
      const t0 = Date.now()
      const error = await createUploader(options).upload(DATA, { name: 'always-fails.bin' }).done.then(
        () => undefined,
        (e: unknown) => e,
      )
      const created = stack.keys.of('create')[0]!
      expect(isValetError(error) && [error.code, error.context.partNumber]).toEqual(['retries_exhausted', 3])
      const attempts = stack.proxy.stats.parts.filter((p) => p.partNumber === 3).length
      expect(attempts).toBe(3)
      expect(stack.keys.of('complete')).toEqual([])
      expect(await storage.read(created.response.key)).toBeUndefined()
      expect([...store.states.values()].map((s) => s.uploadId)).toEqual([created.response.uploadId])
      const storedBefore = new Set(stack.proxy.stats.parts.filter((p) => p.clientStatus !== undefined && p.clientStatus < 300).map((p) => p.partNumber))
      expect([...storedBefore].sort()).toEqual([1, 2])
      const firstRunBytes = stack.proxy.partBytesIn()
      const firstRunPuts = stack.proxy.stats.partPuts

      stack.proxy.rules = []
      stack.proxy.resetStats()
      const result = await createUploader(options).upload(DATA, { name: 'always-fails.bin' }).done
      expect(result.uploadId).toBe(created.response.uploadId)
      // Only what storage didn't have: parts 1-2 were listed, checked against our MD5s, kept.
      expect(stack.proxy.stats.parts.map((p) => p.partNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: PARTS - 2 }, (_, i) => i + 3))
      await expectStored(storage, result.key, { size: SIZE, sha256: DATA_SHA256 })
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
      expect(store.states.size).toBe(0)
      recorder.add({
        storage: name,
        client: 'node',
        between: 'client and storage',
        fault: ALWAYS_FAILS_LABEL,
        faults: attempts,
        partPuts: firstRunPuts + stack.proxy.stats.partPuts,
        parts: PARTS,
        outcome: `failed: retries_exhausted; resumed: ${storedBefore.size} stored parts skipped, complete, sha256 ok`,
        bytesResent: firstRunBytes + stack.proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      }).passed = true
    } finally {
      await stack.close()
    }
  }

  it(`${KEY_EXPIRY.label}: no PUT starts on an expired key, nothing is sent twice`, async () => {
    for (let run = 0; run < FAULT_REPEAT; run++) {
      const stack = await proxiedStack(name, { bandwidth: KEY_EXPIRY.bandwidth }, { keyTtl: KEY_EXPIRY.keyTtl })
      try {
        const t0 = Date.now()
        const result = await createUploader({ endpoint: stack.keys.endpoint, concurrency: FAULT_CONCURRENCY, partSize: PART, headers: AUTH, resume: false })
          .upload(DATA, { name: 'key-expiry.bin' }).done
        const { parts } = stack.proxy.stats
        const row = recorder.add({
          storage: name,
          client: 'node',
          between: 'client and storage',
          fault: KEY_EXPIRY.label,
          faults: keysExpiredOnTheWire(parts),
          partPuts: parts.length,
          parts: PARTS,
          outcome: 'complete',
          bytesResent: stack.proxy.partBytesIn() - SIZE,
          ms: Date.now() - t0,
        })
        expectNoPutOnExpiredKey(parts, PARTS)
        await expectStored(storage, result.key, { size: SIZE, sha256: DATA_SHA256 })
        expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
        row.outcome += ', no PUT on an expired key, sha256 ok'
        row.passed = true
      } finally {
        await stack.close()
      }
    }
  })
})
