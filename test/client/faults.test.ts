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
 * A table of bytes re-sent per fault (from the proxy's counters) is printed at the end.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { createUploader, isValetError, type ResumeState, type ResumeStore, type UploaderOptions } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { azuriteCase, swiftCase } from '../support/storages.js'
import type { FaultKind, PartPutRecord } from '../support/fault-proxy.js'
import { AUTH, completeCallsNameEveryPart, proxiedStack } from './harness.js'

const PART = 5 * MiB
/** 4 equal parts, so every fault costs the same and the table is comparable run to run. */
const PARTS = 4
const SIZE = PARTS * PART
/** One source for every run (each run is its own upload to its own key). */
const DATA = generate(SIZE, 300)
const DATA_SHA256 = sha256(DATA)
/** The stall fault's answer never comes: the client's own stall timer must give up. */
const STALL_TIMEOUT = 1500
/** Every 2nd part PUT of 4 parts: PUTs 2, 4 and 6 of 7. */
const FAULTS_PER_RUN = 3

interface Row {
  storage: string
  fault: string
  injected: number
  partPuts: number
  outcome: string
  resent: number
  ms: number
}
const rows: Row[] = []

afterAll(() => {
  if (rows.length === 0) return
  const mib = (n: number) => (n / MiB).toFixed(1)
  const lines = [
    `Fault matrix: ${(SIZE / MiB).toFixed(1)} MiB in ${PARTS} parts of 5 MiB, 3 in flight, fault on every 2nd part PUT`,
    '| storage | fault | faults injected | part PUTs | outcome | bytes re-sent (MiB) | re-sent per fault (MiB) | time (s) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.storage} | ${r.fault} | ${r.injected} | ${r.partPuts} | ${r.outcome} | ${mib(r.resent)} | ${r.injected ? mib(r.resent / r.injected) : '-'} | ${(r.ms / 1000).toFixed(1)} |`,
    ),
  ]
  console.log(lines.join('\n'))
})

/** A resume store the test can look into. */
function inspectableStore(): ResumeStore & { states: Map<string, ResumeState> } {
  const states = new Map<string, ResumeState>()
  return {
    states,
    async get(fp) {
      const s = states.get(fp)
      return s && { ...s }
    },
    async set(fp, s) {
      states.set(fp, { ...s })
    },
    async remove(fp) {
      states.delete(fp)
    },
  }
}

/**
 * `mustComplete`: faults the upload must ride out, per the design's retry rules (design.md,
 * client engine §5): network errors (resets, dropped answers, stalls once the stall timer
 * fires), 5xx, 429/503 honouring Retry-After. Damaged bytes (storage refuses them: BadDigest,
 * Md5Mismatch) and an answer whose ETag is not our MD5 may end either way: completed, or a
 * typed failure with resumable state (which the test then resumes). The table shows which.
 *
 * `storages`: the proxy answers status faults and stalls itself, so storage plays no part and
 * the client sees the same thing whatever is behind the proxy: those run against Swift only.
 * Faults that involve storage (a truncated body, damaged bytes, its ETag or Content-MD5, a
 * part stored but never acknowledged) run against both.
 */
const BOTH = ['swift', 'azurite'] as const
const SWIFT = ['swift'] as const
const MATRIX: { kind: FaultKind; mustComplete: boolean; storages: readonly string[] }[] = [
  { kind: 'reset-mid-body', mustComplete: true, storages: BOTH },
  { kind: 'status-500', mustComplete: true, storages: SWIFT },
  { kind: 'status-503-retry-after', mustComplete: true, storages: SWIFT },
  { kind: 'status-429-retry-after', mustComplete: true, storages: SWIFT },
  { kind: 'stall', mustComplete: true, storages: SWIFT },
  { kind: 'flip-bytes', mustComplete: false, storages: BOTH },
  { kind: 'wrong-etag', mustComplete: false, storages: BOTH },
  { kind: 'drop-response', mustComplete: true, storages: BOTH },
]

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

/** Codes a part failure may end in: typed, and the state says what to do next. */
const FAILURE_CODES = ['retries_exhausted', 'storage_rejected', 'checksum_mismatch', 'network_error']

describe.each([swiftCase, azuriteCase].map((make) => [make().name, make] as const))('%s: fault matrix', (name, makeCase) => {
  const storage = makeCase()

  it.each(MATRIX.filter((m) => m.storages.includes(name)).map((m) => [m.kind, m] as const))('%s on every 2nd part PUT', async (kind, { mustComplete }) => {
    const stack = await proxiedStack(name, { rules: [{ kind, every: 2 }] })
    try {
      const data = DATA
      const store = inspectableStore()
      const options: UploaderOptions = {
        endpoint: stack.keys.endpoint,
        concurrency: 3,
        partSize: PART,
        headers: AUTH,
        resume: store,
        ...(kind === 'stall' ? { stallTimeout: STALL_TIMEOUT } : {}),
      }
      const t0 = Date.now()
      const outcome = await createUploader(options)
        .upload(data, { name: `${kind}.bin` })
        .done.then((result) => ({ result }), (error: unknown) => ({ error }))
      const ms = Date.now() - t0
      const { stats } = stack.proxy
      const created = stack.keys.of('create')[0]!
      expect(created.response).toMatchObject({ partCount: PARTS, partSize: PART })
      const key: string = created.response.key
      const row: Row = {
        storage: name,
        fault: kind,
        injected: stats.faults[kind],
        partPuts: stats.partPuts,
        outcome: 'error' in outcome ? `failed: ${isValetError(outcome.error) ? outcome.error.code : String(outcome.error)}` : 'complete',
        resent: stack.proxy.partBytesIn() - SIZE,
        ms,
      }
      rows.push(row)

      // Never a complete call with a missing part.
      expect(completeCallsNameEveryPart(stack.keys)).toEqual({ ok: true, detail: '' })

      if ('result' in outcome) {
        // The fault really happened, on several parts or retries.
        expect(stats.faults[kind]).toBeGreaterThanOrEqual(FAULTS_PER_RUN)
        expectRetryTiming(kind, stats.parts)
        const object = await storage.read(outcome.result.key)
        expect(object && sha256(object.bytes)).toBe(DATA_SHA256)
        expect(outcome.result.size).toBe(SIZE)
        expect(await storage.openUploads(key)).toBe(0)
        expect(store.states.size).toBe(0)
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
      const object = await storage.read(resumed.key)
      expect(object && sha256(object.bytes)).toBe(DATA_SHA256)
      expect(completeCallsNameEveryPart(stack.keys)).toEqual({ ok: true, detail: '' })
      expect(store.states.size).toBe(0)
      row.outcome += ', resumed: complete'
      row.resent = stack.proxy.partBytesIn() - SIZE // both runs
    } finally {
      await stack.close()
    }
  })

  it('a part that always fails: typed retries_exhausted, resumable state; resume sends only what is missing', async () => {
    const stack = await proxiedStack(name, { rules: [{ kind: 'status-500', match: (r) => r.partNumber === 3 }] })
    try {
      const store = inspectableStore()
      // One PUT at a time, so the outcome is exact: parts 1-2 stored, part 3 refused retries + 1
      // times, part 4 never started.
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
      expect(stack.proxy.stats.parts.map((p) => p.partNumber).sort()).toEqual([3, 4])
      const object = await storage.read(result.key)
      expect(object && sha256(object.bytes)).toBe(DATA_SHA256)
      expect(await storage.openUploads(result.key)).toBe(0)
      expect(completeCallsNameEveryPart(stack.keys)).toEqual({ ok: true, detail: '' })
      expect(store.states.size).toBe(0)
      rows.push({
        storage: name,
        fault: 'status-500 on every PUT of part 3 (retries: 2, concurrency 1)',
        injected: attempts,
        partPuts: firstRunPuts + stack.proxy.stats.partPuts,
        outcome: `failed: retries_exhausted, resumed: complete (${storedBefore.size} stored parts skipped)`,
        resent: firstRunBytes + stack.proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      })
    } finally {
      await stack.close()
    }
  })
})

describe('swift: the key endpoint goes away for 5 s mid-upload', () => {
  const storage = swiftCase()

  it('completes once it is back, without sending a PUT on an expired key', async () => {
    // 4 s keys (usable for half their life) and a slow link (3 parts share 5 MiB/s: 3 s each):
    // part 4 must be signed again mid-upload.
    // The server goes down the moment that second sign call arrives (its connection is cut
    // too), so the client needs the server for the whole outage.
    let signs = 0
    let downAt = 0
    let upAt = 0
    let outage: Promise<void> | undefined
    const stack = await proxiedStack('swift', { bandwidth: 5 * MiB }, { keyTtl: 4 }, {
      onCall: (op) => {
        if (op !== 'sign' || ++signs !== 2) return
        outage = (async () => {
          await stack.keys.down()
          downAt = Date.now()
          await new Promise((r) => setTimeout(r, 5000))
          await stack.keys.up()
          upAt = Date.now()
        })()
      },
    })
    try {
      const t0 = Date.now()
      const outcome = await createUploader({ endpoint: stack.keys.endpoint, concurrency: 3, partSize: PART, headers: AUTH, resume: false })
        .upload(DATA, { name: 'outage.bin' })
        .done.then((result) => ({ result }), (error: unknown) => ({ error }))
      await outage
      rows.push({
        storage: 'swift',
        fault: 'key endpoint down 5 s at a sign call (keyTtl 4)',
        injected: downAt > 0 ? 1 : 0,
        partPuts: stack.proxy.stats.partPuts,
        outcome: 'error' in outcome ? `failed: ${isValetError(outcome.error) ? outcome.error.code : String(outcome.error)}` : 'complete',
        resent: stack.proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      })
      expect(downAt, 'the outage happened mid-upload').toBeGreaterThan(0)
      if ('error' in outcome) {
        const e = outcome.error
        expect.fail(`the upload failed during a 5 s key endpoint outage: ${isValetError(e) ? `${e.code}: ${e.message}` : String(e)}`)
      }
      const { result } = outcome as { result: { key: string } }
      expect(upAt - downAt).toBeGreaterThanOrEqual(5000)
      // The keys it needed came after the outage.
      expect(stack.keys.of('sign').some((c) => c.at >= upAt && c.status === 200)).toBe(true)
      for (const p of stack.proxy.stats.parts) {
        expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} on an expired key`).toBeLessThan(p.keyExpiresAt!)
      }
      const object = await storage.read(result.key)
      expect(object && sha256(object.bytes)).toBe(DATA_SHA256)
      expect(await storage.openUploads(result.key)).toBe(0)
      expect(completeCallsNameEveryPart(stack.keys)).toEqual({ ok: true, detail: '' })
    } finally {
      await outage
      await stack.close()
    }
  })
})
