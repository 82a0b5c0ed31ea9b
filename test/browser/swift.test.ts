/**
 * The browser client in Chromium against real OpenStack Swift (s3api), driven through the
 * example page: large verified uploads, keys shorter than a part, pause, reload, cancel, and
 * what the page's main thread goes through meanwhile.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StorageProvider } from '@valet/server'
import { expectStored, swiftCase } from '../support/storages.js'
import { launchChromium, openExample, outputDir, startPageServer, uploadMadeFile, type Chromium, type PageServer } from './harness.js'
import {
  MiB,
  PartPuts,
  addMadeFile,
  makeChunks,
  makeFileInPage,
  rawPut,
  rowState,
  sha256Of,
  throttleUploads,
  waitForProgress,
  waitForStatus,
  type FileSpec,
} from './page-tools.js'
import { cancelMidUpload } from './cancel-scenario.js'
import { reloadMidUpload } from './reload-scenario.js'
import { startMainThreadProbe, startTaskTrace, stopMainThreadProbe, summarizeTasks } from './main-thread.js'
import { deleteObject, presignPut, spoilFirstKey } from './swift-tools.js'

const storage = swiftCase()
let server: PageServer
let browser: Chromium
let dir: string
/** The first sign call on /api/spoiled gets part 1's signature spoiled: Swift says 403. */
const spoiler = spoilFirstKey()
/**
 * /api/held-create: storage creates the upload, then the answer is held while `held` is set
 * (a page reloaded, a tab closed, a lost response: the client never learns the upload id).
 */
const heldCreate = { held: false, created: [] as string[], release: [] as (() => void)[] }
function holdingProvider(): StorageProvider {
  const inner = storage.provider()
  return {
    ...inner,
    async create(input) {
      const created = await inner.create(input)
      heldCreate.created.push(created.uploadId)
      if (heldCreate.held) await new Promise<void>((resolve) => heldCreate.release.push(resolve))
      return created
    },
  }
}

beforeAll(async () => {
  ;[server, browser, dir] = await Promise.all([
    startPageServer(storage, {
      '/api/valet': {},
      '/api/short': { options: { keyTtl: 4 } },
      '/api/spoiled': { rewrite: spoiler.rewrite },
      '/api/held-create': { provider: holdingProvider },
    }),
    launchChromium(),
    mkdtemp(join(tmpdir(), 'valet-browser-files-')),
  ])
})
afterAll(async () => {
  for (const release of heldCreate.release.splice(0)) release()
  await browser?.close()
  await server?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** Checks the object read back from Swift ({@link expectStored}), then deletes it: Swift's disk stays small. */
async function expectStoredThenDelete(key: string | undefined, size: number, sha256: string): Promise<void> {
  await expectStored(storage, key, { size, sha256 })
  await deleteObject(key!)
}

const mibps = (bytes: number, ms: number): string => ((bytes / MiB) / (ms / 1000)).toFixed(1)

describe('Chromium → Swift s3api', () => {
  it('sends a small file as one PUT of the object (single-PUT upload): no sign call, its signed headers pass CORS', async () => {
    const spec: FileSpec = { name: 'small.txt', size: 300 * 1024, seed: 41, lastModified: 1_700_000_500_000 }
    const page = await openExample(browser.context, server.url({ concurrency: 2 }))
    const calls: string[] = []
    const puts: { url: string; status: number; headers: Record<string, string> }[] = []
    page.on('request', (r) => {
      if (/\/api\/valet\//.test(r.url()) && r.method() !== 'OPTIONS') calls.push(`${r.method()} ${new URL(r.url()).pathname.replace(/^.*\/api\/valet/, '')}`)
    })
    page.on('response', (res) => {
      const r = res.request()
      if (r.method() === 'PUT' && !r.url().includes('/api/')) puts.push({ url: r.url(), status: res.status(), headers: r.headers() })
    })
    await makeFileInPage(page, spec)
    const row = await waitForStatus(page, await addMadeFile(page, spec.name), ['done'])
    expect(puts, JSON.stringify(puts)).toHaveLength(1)
    expect(new URL(puts[0]!.url).searchParams.has('partNumber')).toBe(false)
    expect(puts[0]!.headers['content-md5']).toMatch(/==$/)
    expect(calls.filter((c) => c.startsWith('POST') && c.includes('/parts'))).toEqual([])
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('uploads 256 MiB made in the page, sha256-verified, measured against a raw PUT, keeping the main thread free', async () => {
    const spec: FileSpec = { name: 'big.bin', size: 256 * MiB, seed: 7, lastModified: 1_700_000_000_000 }
    const expected = sha256Of(makeChunks(spec.size, spec.seed))
    const page = await openExample(browser.context, server.url({ concurrency: 4, partSize: 8 * MiB }))
    await makeFileInPage(page, spec)
    const ratios: number[] = []
    // Alternating rounds, so load from the storage processes hits both alike.
    for (let round = 0; round < 2; round++) {
      const rawKey = `raw/${Date.now()}-${round}.bin`
      const raw = await rawPut(page, await presignPut(rawKey), spec.name)
      expect(raw.status).toBe(200)
      await deleteObject(rawKey)

      await startMainThreadProbe(page)
      const stopTrace = await startTaskTrace(page)
      const id = await addMadeFile(page, spec.name)
      const row = await waitForStatus(page, id, ['done'])
      const load = loadavg()[0]!
      const probe = await stopMainThreadProbe(page)
      const tasks = await stopTrace()
      const { longest, mostCpuMs, gcCpuMs } = summarizeTasks(tasks)
      const ms = row.elapsedMs!
      ratios.push(raw.ms / ms)
      console.log(
        `[browser] round ${round + 1}: raw fetch PUT ${mibps(spec.size, raw.ms)} MiB/s (${raw.ms.toFixed(0)} ms), ` +
          `valet 8 MiB × 4 ${mibps(spec.size, ms)} MiB/s (${ms} ms), ratio ${(raw.ms / ms).toFixed(2)}\n` +
          `[browser]   main thread: long tasks ${probe.longTasks.length ? probe.longTasks.join(', ') + ' ms' : 'none'}; ` +
          `${tasks.length} tasks, longest ${longest.wallMs.toFixed(0)} ms (${longest.cpuMs.toFixed(1)} ms of it on a CPU), ` +
          `most CPU in one task ${mostCpuMs.toFixed(1)} ms (GC step ${gcCpuMs.toFixed(1)} ms); heartbeat gap ≤ ${probe.maxGapMs} ms; ` +
          `load average ${load.toFixed(1)} on ${cpus().length} cores`,
      )
      // The page's thread never slices or sends a part (synchronous calls into the browser
      // process), and no task of it computes for 50 ms.
      expect([probe.bigSlices, probe.blobSends]).toEqual([0, 0])
      expect(mostCpuMs).toBeLessThan(50)
      // Wall-clock long tasks: one counts against the page when it computed for at least half of
      // its time. A task of 3 ms CPU can take 80 ms waiting for a core while the other suites
      // run beside this one (seen in CI at a 1-minute load average of 2.4: probe 79 ms, traced
      // 64 ms with 2.6 ms of CPU), which says nothing of the page's code.
      const busyLong = tasks.filter((t) => t.wallMs >= 50 && t.cpuMs >= t.wallMs / 2)
      expect(busyLong).toEqual([])
      if (probe.longTasks.length > 0) console.log(`[browser]   long tasks waiting for a core, not computing: ${probe.longTasks.join(', ')} ms (load average ${load.toFixed(1)})`)
      if (round === 0) await expectStoredThenDelete(row.key, spec.size, expected)
      else await deleteObject(row.key!)
    }
    console.log(`[browser] valet / raw fetch PUT: ${ratios.map((r) => r.toFixed(2)).join(', ')} (best ${Math.max(...ratios).toFixed(2)})`)
    await page.close()
  })

  it('re-signs and retries a part whose PUT failed as a network error (a Swift 403 without CORS headers)', async () => {
    const spec: FileSpec = { name: 'spoiled.bin', size: 16 * MiB, seed: 11, lastModified: 1_700_000_100_000 }
    const { page, puts, row } = await uploadMadeFile(browser.context, server.url({ endpoint: '/api/spoiled', concurrency: 2, partSize: 5 * MiB }), spec)
    expect(spoiler.url).toBeDefined()
    // What Swift answers a spoiled key: 403, without CORS headers, so a page can't read it...
    const refused = await fetch(spoiler.url!, { method: 'PUT', headers: { origin: server.origin }, body: 'x' })
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([403, null])
    await refused.arrayBuffer()
    // ...and in the page the PUT failed without a status: a network error to the client...
    expect(puts.failed.map((f) => f.partNumber)).toEqual([1])
    expect(puts.statuses.filter((s) => s.partNumber === 1 && s.status === 200)).toHaveLength(1)
    // ...which signed part 1 again and sent it again.
    expect(puts.sent.get(1)).toBe(2)
    const signed = server.calls.filter((c) => c.endpoint === '/api/spoiled' && c.path.endsWith('/parts') && c.method === 'POST')
    expect(signed.filter((c) => c.response.parts.some((p: { partNumber: number }) => p.partNumber === 1)).length).toBe(2)
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('completes with 4 s keys over a throttled link where each part takes longer than a key lives', async () => {
    const spec: FileSpec = { name: 'slow.bin', size: 20 * MiB, seed: 13, lastModified: 1_700_000_200_000 }
    const { page, puts, row } = await uploadMadeFile(browser.context, server.url({ endpoint: '/api/short', concurrency: 2, partSize: 5 * MiB }), spec, 2 * MiB)
    const signCalls = server.calls.filter((c) => c.endpoint === '/api/short' && c.path.endsWith('/parts') && c.method === 'POST')
    console.log(`[browser] 4 s keys: ${row.elapsedMs} ms, part PUTs took ${puts.durations.map((d) => Math.round(d)).join(', ')} ms, ${signCalls.length} sign calls`)
    expect(Math.max(...puts.durations)).toBeGreaterThan(4000)
    // Keys were refreshed by the clock: no PUT was ever refused, none sent twice.
    expect(puts.statuses.every((s) => s.status === 200)).toBe(true)
    expect(puts.repeated()).toEqual([])
    expect(signCalls.length).toBeGreaterThan(1)
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('pauses (no PUT starts while paused) and resumes to a verified object; screenshot mid-upload', async () => {
    const spec: FileSpec = { name: 'pause.bin', size: 30 * MiB, seed: 17, lastModified: 1_700_000_300_000 }
    const page = await openExample(browser.context, server.url({ concurrency: 2, partSize: 5 * MiB }))
    const puts = new PartPuts(page)
    await throttleUploads(page, 6 * MiB)
    await makeFileInPage(page, spec)
    const id = await addMadeFile(page, spec.name)
    await waitForProgress(page, id, 0.3)
    await page.screenshot({ path: join(outputDir, 'browser-upload.png') })
    await page.click(`#${id} button[data-action="pause"]`)
    await waitForStatus(page, id, ['paused'])
    const sentAtPause = puts.total()
    await page.waitForTimeout(1500)
    expect(puts.total()).toBe(sentAtPause)
    expect((await rowState(page, id)).status).toBe('paused')
    await page.click(`#${id} button[data-action="resume"]`)
    const row = await waitForStatus(page, id, ['done'])
    // Only parts in flight at the pause go again.
    expect(puts.repeated().length).toBeLessThanOrEqual(2)
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('continues after a reload when the same file is picked again, sending few parts twice', async () => {
    const spec: FileSpec = { name: 'reload.bin', size: 40 * MiB, seed: 19, lastModified: 1_700_000_400_000 }
    const concurrency = 2
    const { page, row, sha256 } = await reloadMidUpload(browser.context, server.url({ concurrency, partSize: 5 * MiB }), dir, spec, { concurrency, bytesPerSecond: 8 * MiB, label: 'after reload' })
    await expectStoredThenDelete(row.key, spec.size, sha256)
    await page.close()
  })

  it('reload while create is unanswered, pick the same file: the pending create (IndexedDB) gets the same upload back, none left open', async () => {
    const spec: FileSpec = { name: 'held-create.bin', size: 12 * MiB, seed: 45, lastModified: 1_700_000_800_000 }
    const url = server.url({ endpoint: '/api/held-create', concurrency: 2, partSize: 5 * MiB })
    heldCreate.held = true
    const page = await openExample(browser.context, url)
    await makeFileInPage(page, spec)
    await addMadeFile(page, spec.name)
    await expect.poll(() => heldCreate.created.length, { timeout: 30_000 }).toBe(1)
    await page.reload()
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
    heldCreate.held = false
    for (const release of heldCreate.release.splice(0)) release()
    await makeFileInPage(page, spec)
    const row = await waitForStatus(page, await addMadeFile(page, spec.name), ['done'])
    const creates = server.calls.filter((c) => c.endpoint === '/api/held-create' && c.method === 'POST' && c.path.endsWith('/uploads'))
    // The held answer went to a reloaded page; the second create was answered with the same upload.
    expect(creates.at(-1)?.response.uploadId).toBe(heldCreate.created[0])
    expect(heldCreate.created).toHaveLength(1)
    expect(await storage.openUploads(row.key!)).toBe(0)
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('uploads under a CSP that forbids workers: hashing and sending fall back to the main thread', async () => {
    const spec: FileSpec = { name: 'csp.bin', size: 12 * MiB, seed: 43, lastModified: 1_700_000_600_000 }
    const page = await openExample(browser.context, server.url({ csp: 'no-workers', concurrency: 2, partSize: 5 * MiB }))
    const workers: string[] = []
    page.on('worker', (w) => workers.push(w.url()))
    await makeFileInPage(page, spec)
    const row = await waitForStatus(page, await addMadeFile(page, spec.name), ['done'])
    expect(workers).toEqual([])
    await expectStoredThenDelete(row.key, spec.size, sha256Of(makeChunks(spec.size, spec.seed)))
    await page.close()
  })

  it('hashes with WebAssembly (hash-wasm) in workers, and with spark-md5 where a CSP refuses WebAssembly', async () => {
    const spec: FileSpec = { name: 'wasm.bin', size: 12 * MiB, seed: 44, lastModified: 1_700_000_700_000 }
    const expected = sha256Of(makeChunks(spec.size, spec.seed))
    const engines: Record<string, { engine: string; mode: string; md5: string }> = {}
    for (const csp of ['', 'no-wasm']) {
      const page = await openExample(browser.context, server.url({ ...(csp ? { csp } : {}), concurrency: 2, partSize: 5 * MiB }))
      const workers: string[] = []
      page.on('worker', (w) => workers.push(w.url()))
      await makeFileInPage(page, spec)
      // The page's own copy of the client (same module URL as the example's import); a string,
      // so the test runner doesn't rewrite the dynamic import.
      await page.evaluate("import('/valet-client.js').then((m) => { window.__valet = m })")
      engines[csp || 'default'] = await page.evaluate(async (name) => {
        const valet = (window as unknown as { __valet: { createMd5Hasher(o: object): { md5(b: Blob, s: AbortSignal): Promise<string>; engine: string; mode: string; close(): void } } }).__valet
        const file = (window as unknown as { __files: Record<string, File> }).__files[name]!
        const hasher = valet.createMd5Hasher({ workers: 1 })
        const md5 = await hasher.md5(file, new AbortController().signal)
        const out = { engine: hasher.engine, mode: hasher.mode, md5 }
        hasher.close()
        return out
      }, spec.name)
      const row = await waitForStatus(page, await addMadeFile(page, spec.name), ['done'])
      expect(workers.length).toBeGreaterThan(0)
      await expectStoredThenDelete(row.key, spec.size, expected)
      await page.close()
    }
    const md5 = createHash('md5')
    for (const chunk of makeChunks(spec.size, spec.seed)) md5.update(chunk)
    expect(engines).toEqual({
      default: { engine: 'hash-wasm', mode: 'workers', md5: md5.copy().digest('base64') },
      'no-wasm': { engine: 'spark-md5', mode: 'workers', md5: md5.digest('base64') },
    })
  })

  it('uploads a 4 GiB file from disk without reading it into the page: the JS heap stays small', async () => {
    const path = join(dir, 'huge.bin')
    // Sparse: 4 GiB on paper, nothing on disk; reads give zeros.
    const handle = await open(path, 'w')
    await handle.truncate(4 * 1024 * MiB)
    await handle.close()
    const page = await openExample(browser.context, server.url({ concurrency: 4, partSize: 8 * MiB }))
    await page.setInputFiles('#file', path)
    await page.waitForFunction(() => Number(document.getElementById('upload-1')?.dataset.partsDone) >= 8, undefined, { timeout: 60_000 })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('HeapProfiler.collectGarbage')
    const heap = await cdp.send('Runtime.getHeapUsage')
    const state = await rowState(page, 'upload-1')
    console.log(`[browser] 4 GiB file: ${state.partsDone} of ${state.partsTotal} parts stored, page JS heap ${(heap.usedSize / MiB).toFixed(1)} MiB used`)
    expect(state.partsTotal).toBe(512)
    expect(heap.usedSize).toBeLessThan(64 * MiB)
    await page.click('#upload-1 button[data-action="cancel"]')
    await waitForStatus(page, 'upload-1', ['canceled'])
    await page.close()
    await rm(path)
  })

  it('cancel aborts the upload in storage: no open multipart upload, no object', async () => {
    const spec: FileSpec = { name: 'cancel.bin', size: 30 * MiB, seed: 23, lastModified: 1_700_000_500_000 }
    await cancelMidUpload(browser.context, server, storage, server.url({ concurrency: 2, partSize: 5 * MiB }), spec)
  })
})
