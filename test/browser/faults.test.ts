/**
 * The fault matrix in Chromium: the browser client (the built bundle, its Web Workers hashing
 * and sending) through two loopback fault proxies:
 *   - one between the page and storage (Swift s3api, Azurite): the storage faults of
 *     test/client/faults.test.ts, each on every 2nd part PUT of a 4-part upload;
 *   - one between the page and the app: it serves the page, the bundle and the key endpoint
 *     (same origin, as in production), and answers 503/500 for a while, resets, stalls past
 *     `requestTimeout`, loses complete's answer, or refuses connections for 5 s.
 * In a browser a storage answer without CORS headers can't be read: it is a network error to
 * the client. So the proxy's own answers (500, 503, 429) carry CORS headers for the page's origin
 * as a storage whose CORS rule allows the page would (AWS S3 does on its 5xx), exposing `ETag`
 * and `Retry-After`, so the client can honour it. Storage's own answers pass through unchanged:
 * Swift's 400 BadDigest has no CORS headers and reaches the client as a network error.
 *
 * Each run asserts: complete with the right sha256 (read back through the storage's own API),
 * or a typed error with resumable state that a second upload continues to completion; every
 * complete call named all parts; no multipart upload left open. One row per run goes to
 * test-output/fault-matrix/chromium-*.json (scripts/fault-table.mjs renders the tables).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CDPSession, Page } from 'playwright-core'
import { azuriteCase, expectStored, providerAt, storageEndpoint, swiftCase, type StorageCase } from '../support/storages.js'
import { startFaultProxy, type FaultKind, type FaultProxy, type PartPutRecord } from '../support/fault-proxy.js'
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
  SOAK,
  STORAGE_FAULTS,
  keyFaultScenarios,
  type KeyFaultScenario,
} from '../support/fault-matrix.js'
import { completeCallsNameEveryPart } from '../support/key-calls.js'
import { launchChromium, openExample, startPageServer, type Chromium, type KeyCall, type PageServer } from './harness.js'
import { MiB, makeChunks, makeFileInPage, sha256Of, type FileSpec } from './page-tools.js'

const PART = 5 * MiB
const PARTS = FAULT_PARTS
const SIZE = PARTS * PART
const FILE: FileSpec = { name: 'faults.bin', size: SIZE, seed: 53, lastModified: 1_700_002_000_000 }
const EXPECTED = sha256Of(makeChunks(FILE.size, FILE.seed))
/** The stall fault's answer never comes: the client's stall timer gives up after this long. */
const STALL_TIMEOUT = 2000
const FAULTS_PER_RUN = PARTS - 1

const storages: Record<'swift' | 'azurite', StorageCase> = { swift: swiftCase(), azurite: azuriteCase() }
const proxies = {} as Record<'swift' | 'azurite', FaultProxy>
let keyProxy: FaultProxy
let server: PageServer
let browser: Chromium
let page: Page
/** One DevTools session for the page's network conditions, so lifting a limit lifts the one set. */
let cdp: CDPSession

/** Limits the page's uploads (workers' included) to `bytesPerSecond`; `undefined` lifts it. */
async function throttle(bytesPerSecond: number | undefined): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond ?? -1 })
}

const storageRows = new MatrixRecorder('chromium-storage', { partSize: PART, parts: PARTS, concurrency: FAULT_CONCURRENCY, repeat: FAULT_REPEAT })
const keyRows = new MatrixRecorder('chromium-key-server', { partSize: PART, parts: PARTS, concurrency: FAULT_CONCURRENCY, repeat: FAULT_REPEAT })

beforeAll(async () => {
  const [swift, azurite] = await Promise.all([
    startFaultProxy({ target: new URL(storageEndpoint('swift')).origin, cors: { exposeHeaders: ['ETag', 'Retry-After'] } }),
    startFaultProxy({ target: new URL(storageEndpoint('azurite')).origin, cors: { exposeHeaders: ['ETag', 'Content-MD5', 'Retry-After'] } }),
  ])
  proxies.swift = swift
  proxies.azurite = azurite
  const swiftAt = () => providerAt('swift', swift.endpointFor(storageEndpoint('swift')))
  const azuriteAt = () => providerAt('azurite', azurite.endpointFor(storageEndpoint('azurite')))
  ;[server, browser] = await Promise.all([
    startPageServer(storages.swift, {
      '/api/swift': { provider: swiftAt },
      '/api/swift-short': { provider: swiftAt, options: { keyTtl: 4 } },
      '/api/azurite': { provider: azuriteAt },
      '/api/azurite-short': { provider: azuriteAt, options: { keyTtl: 4 } },
    }),
    launchChromium(),
  ])
  // The page, its bundle and the key endpoints all come through the app's proxy.
  keyProxy = await startFaultProxy({ target: server.origin })
  page = await openExample(browser.context, `${keyProxy.origin}/`)
  cdp = await browser.context.newCDPSession(page)
  await cdp.send('Network.enable')
  await makeFileInPage(page, FILE)
  // A string, so the test runner's transform leaves the page's dynamic import alone.
  await page.evaluate('import("/valet-client.js").then((m) => { window.__valet = m })')
})

afterAll(async () => {
  await Promise.all([storageRows.write(), keyRows.write()])
  await browser?.close()
  await keyProxy?.close()
  await server?.close()
  await Promise.all(Object.values(proxies).map((p) => p.close()))
})

interface PageRun {
  endpoint: string
  name: string
  /** A new, empty resume store (else the previous run's, to resume). */
  freshStore: boolean
  concurrency?: number
  stallTimeout?: number
  requestTimeout?: number
  retries?: number
  retryDelay?: number
}

interface PageOutcome {
  result?: { key: string; size: number; uploadId: string }
  error?: { valet: boolean; code: string | undefined; message: string; status: number | undefined; partNumber: number | undefined }
  /** Upload ids in the page's resume store after the run. */
  states: string[]
}

/** One `createUploader(...).upload(file).done` in the page, with an inspectable resume store. */
function uploadInPage(run: PageRun): Promise<PageOutcome> {
  return page.evaluate(
    async ({ run, file, partSize, concurrency }) => {
      type State = { uploadId: string }
      const w = window as unknown as {
        __valet: typeof import('../../packages/client/src/index.browser.js')
        __files: Record<string, File>
        __states?: Map<string, State>
      }
      if (run.freshStore || w.__states === undefined) w.__states = new Map()
      const states = w.__states
      const store = {
        get: async (fp: string) => {
          const s = states.get(fp)
          return s === undefined ? undefined : { ...s }
        },
        set: async (fp: string, s: State) => void states.set(fp, { ...s }),
        remove: async (fp: string) => void states.delete(fp),
      }
      const { createUploader, isValetError } = w.__valet
      const uploader = createUploader({
        endpoint: run.endpoint,
        concurrency: run.concurrency ?? concurrency,
        partSize,
        resume: store as never,
        ...(run.stallTimeout === undefined ? {} : { stallTimeout: run.stallTimeout }),
        ...(run.requestTimeout === undefined ? {} : { requestTimeout: run.requestTimeout }),
        ...(run.retries === undefined ? {} : { retries: run.retries }),
        ...(run.retryDelay === undefined ? {} : { retryDelay: run.retryDelay }),
      })
      const ids = () => [...states.values()].map((s) => s.uploadId)
      try {
        const r = await uploader.upload(w.__files[file]!, { name: run.name }).done
        return { result: { key: r.key, size: r.size, uploadId: r.uploadId }, states: ids() }
      } catch (e) {
        const error = e as { code?: string; message?: string; context?: { status?: number; partNumber?: number } }
        return {
          error: { valet: isValetError(e), code: error?.code, message: String(error?.message ?? e), status: error?.context?.status, partNumber: error?.context?.partNumber },
          states: ids(),
        }
      }
    },
    { run, file: FILE.name, partSize: PART, concurrency: FAULT_CONCURRENCY },
  )
}

const createdIn = (calls: KeyCall[]) => calls.filter((c) => c.method === 'POST' && c.status === 201 && c.path.endsWith('/uploads'))
const explain = (e: PageOutcome['error']) => (e ? `${e.code ?? 'not a ValetError'}: ${e.message}` : '')
const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0)

/** The file, whole, at `key` ({@link expectStored}). */
const expectFile = (storage: StorageCase, key: string) => expectStored(storage, key, { size: SIZE, sha256: EXPECTED })

/**
 * The client waited as told before sending a faulted part again: `Retry-After: 1` on 503/429
 * (counted from the end of the faulted exchange, so a lower bound with no slack taken), and
 * after a stall only once the exchange was given up.
 */
function expectRetryTiming(kind: FaultKind, parts: PartPutRecord[]): void {
  for (const faulted of parts.filter((p) => p.fault === kind)) {
    const next = parts.find((p) => p.partNumber === faulted.partNumber && p.attempt === faulted.attempt + 1)
    if (kind === 'status-503-retry-after' || kind === 'status-429-retry-after') {
      expect(next, `part ${faulted.partNumber} was sent again`).toBeDefined()
      expect(next!.arrivedAt - faulted.endedAt!, `part ${faulted.partNumber} retried before Retry-After`).toBeGreaterThanOrEqual(1000 - 5)
    } else if (kind === 'stall') {
      expect(next, `part ${faulted.partNumber} was sent again`).toBeDefined()
      expect(faulted.clientStatus, 'a stalled exchange got no answer').toBeUndefined()
      expect(next!.arrivedAt).toBeGreaterThanOrEqual(faulted.endedAt!)
    }
  }
}

function reset(...used: FaultProxy[]): void {
  for (const p of [keyProxy, ...Object.values(proxies)]) {
    p.rules = []
    if (used.includes(p)) p.resetStats()
  }
}

describe.each((['swift', 'azurite'] as const).map((name) => [name] as const))('Chromium → fault proxy → %s', (name) => {
  const storage = storages[name]

  it.each(STORAGE_FAULTS.filter((m) => m.storages.includes(name)).map((m) => [m.kind, m] as const))('%s on every 2nd part PUT', async (kind, { label, mustComplete }) => {
    for (let run = 0; run < FAULT_REPEAT; run++) await storageFaultRun(kind, label, mustComplete)
  })

  async function storageFaultRun(kind: FaultKind, label: string, mustComplete: boolean): Promise<void> {
    const proxy = proxies[name]
    reset(proxy, keyProxy)
    proxy.rules = [{ kind, every: 2 }]
    const endpoint = `/api/${name}`
    const from = server.calls.length
    const calls = () => server.calls.slice(from).filter((c) => c.endpoint === endpoint)
    const t0 = Date.now()
    const out = await uploadInPage({ endpoint, name: `${kind}.bin`, freshStore: true, ...(kind === 'stall' ? { stallTimeout: STALL_TIMEOUT } : {}) })
    const { stats } = proxy
    const created = createdIn(calls())
    const row = storageRows.add({
      storage: name,
      client: 'chromium',
      between: 'client and storage',
      fault: label,
      faults: stats.faults[kind],
      partPuts: stats.partPuts,
      parts: PARTS,
      outcome: out.error ? `failed: ${out.error.code ?? out.error.message}` : 'complete',
      bytesResent: proxy.partBytesIn() - SIZE,
      ms: Date.now() - t0,
    })
    expect(created).toHaveLength(1)
    expect(created[0]!.response).toMatchObject({ partCount: PARTS, partSize: PART })
    const { key, uploadId } = created[0]!.response as { key: string; uploadId: string }
    // Never a complete call with a missing part.
    expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })

    if (out.result) {
      expect(stats.faults[kind], 'the fault hit several parts or retries').toBeGreaterThanOrEqual(FAULTS_PER_RUN)
      expectRetryTiming(kind, stats.parts)
      expect(out.result.size).toBe(SIZE)
      await expectFile(storage, out.result.key)
      expect(out.states).toEqual([])
      row.outcome += ', sha256 ok'
      row.passed = true
      return
    }

    expect(stats.faults[kind]).toBeGreaterThanOrEqual(1)
    if (mustComplete) expect.fail(`${name} ${kind}: the upload should ride out this fault, but failed: ${explain(out.error)}`)
    expect(out.error!.valet, explain(out.error)).toBe(true)
    expect(FAILURE_CODES).toContain(out.error!.code)
    // Nothing half-done is visible, and the upload can be continued.
    expect(await storage.read(key)).toBeUndefined()
    expect(out.states).toEqual([uploadId])
    proxy.rules = []
    const resumed = await uploadInPage({ endpoint, name: `${kind}.bin`, freshStore: false })
    expect(resumed.error, explain(resumed.error)).toBeUndefined()
    expect(resumed.result!.uploadId).toBe(uploadId)
    expect(createdIn(calls())).toHaveLength(1)
    expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })
    await expectFile(storage, resumed.result!.key)
    expect(resumed.states).toEqual([])
    row.outcome += '; resumed: complete, sha256 ok'
    row.partPuts = stats.partPuts
    row.bytesResent = proxy.partBytesIn() - SIZE
    row.ms = Date.now() - t0
    row.passed = true
  }

  // Azurite's own 4 s SAS keys over a throttled link are in azurite.test.ts; here only in the soak.
  if (name === 'swift' || SOAK) {
    it(`${KEY_EXPIRY.label}: no PUT starts on an expired key, nothing is sent twice`, async () => {
      for (let run = 0; run < FAULT_REPEAT; run++) {
        const proxy = proxies[name]
        reset(proxy, keyProxy)
        const endpoint = `/api/${name}-short`
        const from = server.calls.length
        const calls = () => server.calls.slice(from).filter((c) => c.endpoint === endpoint)
        const t0 = Date.now()
        await throttle(KEY_EXPIRY.bandwidth)
        let out: PageOutcome
        try {
          out = await uploadInPage({ endpoint, name: 'key-expiry.bin', freshStore: true })
        } finally {
          await throttle(undefined)
        }
        const { parts } = proxy.stats
        const row = storageRows.add({
          storage: name,
          client: 'chromium',
          between: 'client and storage',
          fault: KEY_EXPIRY.label,
          faults: keysExpiredOnTheWire(parts),
          partPuts: parts.length,
          parts: PARTS,
          outcome: out.error ? `failed: ${out.error.code ?? out.error.message}` : 'complete',
          bytesResent: proxy.partBytesIn() - SIZE,
          ms: Date.now() - t0,
        })
        expect(out.error, explain(out.error)).toBeUndefined()
        expectNoPutOnExpiredKey(parts, PARTS)
        expect(createdIn(calls())).toHaveLength(1)
        expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })
        await expectFile(storage, out.result!.key)
        row.outcome += ', no PUT on an expired key, sha256 ok'
        row.passed = true
      }
    })
  }

  // The proxy answers the 500s itself: storage plays no part, Swift stands for both.
  if (name === 'swift') {
    it('a part that always fails: typed retries_exhausted, resumable state; resume sends only what is missing', async () => {
      for (let run = 0; run < FAULT_REPEAT; run++) await alwaysFailsRun()
    })

    async function alwaysFailsRun(): Promise<void> {
      const proxy = proxies.swift
      reset(proxy, keyProxy)
      proxy.rules = [{ kind: 'status-500', match: (r) => r.partNumber === 3 }]
      const endpoint = '/api/swift'
      const from = server.calls.length
      const calls = () => server.calls.slice(from).filter((c) => c.endpoint === endpoint)
      const t0 = Date.now()
      // One PUT at a time, so the outcome is exact: parts 1-2 stored, part 3 refused retries + 1
      // times, the later parts never started.
      const run: PageRun = { endpoint, name: 'always-fails.bin', freshStore: true, concurrency: 1, retries: 2, retryDelay: 50 }
      const out = await uploadInPage(run)
      expect([out.error?.code, out.error?.partNumber], explain(out.error)).toEqual(['retries_exhausted', 3])
      const created = createdIn(calls())
      expect(created).toHaveLength(1)
      const { key, uploadId } = created[0]!.response as { key: string; uploadId: string }
      const attempts = proxy.stats.parts.filter((p) => p.partNumber === 3).length
      expect(attempts).toBe(3)
      expect(calls().filter((c) => c.path.endsWith('/complete'))).toEqual([])
      expect(await storage.read(key)).toBeUndefined()
      expect(out.states).toEqual([uploadId])
      const stored = new Set(proxy.stats.parts.filter((p) => p.clientStatus !== undefined && p.clientStatus < 300).map((p) => p.partNumber))
      expect([...stored].sort()).toEqual([1, 2])
      const firstBytes = proxy.partBytesIn()
      const firstPuts = proxy.stats.partPuts

      reset(proxy)
      const resumed = await uploadInPage({ ...run, freshStore: false })
      expect(resumed.error, explain(resumed.error)).toBeUndefined()
      expect(resumed.result!.uploadId).toBe(uploadId)
      // Only what storage didn't have: parts 1-2 were listed, checked against our MD5s, kept.
      expect(proxy.stats.parts.map((p) => p.partNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: PARTS - 2 }, (_, i) => i + 3))
      expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })
      await expectFile(storage, resumed.result!.key)
      expect(resumed.states).toEqual([])
      storageRows.add({
        storage: 'swift',
        client: 'chromium',
        between: 'client and storage',
        fault: ALWAYS_FAILS_LABEL,
        faults: attempts,
        partPuts: firstPuts + proxy.stats.partPuts,
        parts: PARTS,
        outcome: `failed: retries_exhausted; resumed: ${stored.size} stored parts skipped, complete, sha256 ok`,
        bytesResent: firstBytes + proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      }).passed = true
    }
  }
})

describe('Chromium → fault proxy → key endpoint (Swift behind)', () => {
  const storage = storages.swift

  it.each(keyFaultScenarios().map((s) => [s.label, s] as const))('%s', async (_label, scenario) => {
    for (let run = 0; run < FAULT_REPEAT; run++) await keyFaultRun(scenario)
  })

  async function keyFaultRun(scenario: KeyFaultScenario): Promise<void> {
    const proxy = proxies.swift
    reset(proxy, keyProxy)
    keyProxy.rules = scenario.rules()
    // 4 s keys and a 5 MiB/s link (3 parts in flight: 3 s each): parts after the first window
    // must be signed again mid-upload.
    const endpoint = scenario.shortKeys ? '/api/swift-short' : '/api/swift'
    if (scenario.shortKeys) await throttle(5 * MiB)
    const from = server.calls.length
    const calls = () => server.calls.slice(from).filter((c) => c.endpoint === endpoint)
    const t0 = Date.now()
    let out: PageOutcome
    try {
      out = await uploadInPage({ endpoint, name: `${scenario.id}.bin`, freshStore: true, ...(scenario.requestTimeout ? { requestTimeout: scenario.requestTimeout } : {}) })
    } finally {
      if (scenario.shortKeys) await throttle(undefined)
    }
    const row = keyRows.add({
      storage: 'swift',
      client: 'chromium',
      between: 'client and key server',
      fault: scenario.label,
      faults: sum(keyProxy.stats.faults),
      partPuts: proxy.stats.partPuts,
      parts: PARTS,
      outcome: out.error ? `failed: ${out.error.code ?? out.error.message}` : 'complete',
      bytesResent: proxy.partBytesIn() - SIZE,
      ms: Date.now() - t0,
    })
    const created = createdIn(calls())
    expect(created, 'one upload created, not one per retry').toHaveLength(1)
    const { key, uploadId } = created[0]!.response as { key: string; uploadId: string }
    expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })
    expect(row.faults, 'faults injected').toBeGreaterThanOrEqual(scenario.minFaults)

    let result: NonNullable<PageOutcome['result']>
    if (scenario.expect === 'complete') {
      if (out.error) expect.fail(`${scenario.id}: the upload should ride out this fault, but failed: ${explain(out.error)}`)
      result = out.result!
      expect(out.states).toEqual([])
    } else {
      if (!out.error) expect.fail(`${scenario.id}: a 500 from complete must not be retried, but the upload completed`)
      expect([out.error.code, out.error.status], explain(out.error)).toEqual(['server_error', 500])
      expect(await storage.read(key)).toBeUndefined()
      expect(out.states).toEqual([uploadId])
      keyProxy.rules = []
      const puts = proxy.stats.partPuts
      const resumed = await uploadInPage({ endpoint, name: `${scenario.id}.bin`, freshStore: false })
      expect(resumed.error, explain(resumed.error)).toBeUndefined()
      result = resumed.result!
      expect(result.uploadId).toBe(uploadId)
      // Every part was stored and listed: the rerun only completes.
      expect(proxy.stats.partPuts).toBe(puts)
      expect(resumed.states).toEqual([])
      row.outcome += '; resumed: complete'
      row.ms = Date.now() - t0
    }

    if (scenario.shortKeys) {
      const [outage] = keyProxy.stats.outages
      expect(outage?.to, 'the key server went down mid-upload and came back').toBeDefined()
      expect(outage!.to! - outage!.from).toBeGreaterThanOrEqual(5000)
      // The keys the rest of the upload needed came after the outage...
      expect(calls().some((c) => c.method === 'POST' && c.path.endsWith('/parts') && c.at >= outage!.to! && c.status === 200)).toBe(true)
      // ...and no PUT went out on an expired key meanwhile.
      for (const p of proxy.stats.parts) {
        expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} on an expired key`).toBeLessThan(p.keyExpiresAt!)
      }
    }
    expect(result.size).toBe(SIZE)
    expect(completeCallsNameEveryPart(calls())).toEqual({ ok: true, detail: '' })
    await expectFile(storage, result.key)
    row.outcome += ', sha256 ok'
    row.passed = true
  }
})
