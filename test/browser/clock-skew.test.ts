/**
 * The browser client in Chromium with the machine's clock 10 minutes fast, and 10 minutes slow,
 * against real Swift s3api and Azurite, through a CDP-throttled link with 4 s keys.
 *
 * The skew is real for everything in the page: an init script replaces `Date` in the page
 * (`Date.now()`, `new Date()`; `performance.now()` and timers untouched) and wraps `Worker` so
 * every worker the page starts (the client's blob: hashing and sending workers) gets the same
 * clock before its own script runs. Playwright's `page.clock` is not used: it moves `Date` in
 * the page only, not in Web Workers, and it fakes `performance` too.
 *
 * Storage sits behind a recording proxy (`test/support/fault-proxy.ts`, no faults) that notes for
 * every part PUT when it arrived and when its key expires, both on the true clock: no PUT may
 * arrive on an expired key, storage must accept every one, each part is sent once, keys are
 * refreshed mid-upload, and the object read back through the storage's own API has the file's
 * sha256.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { Page, Worker } from 'playwright-core'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { installSkewedDate } from '../support/skewed-date.mjs'
import { expectStored, providerAt, storageCases, storageEndpoint, type StorageCase } from '../support/storages.js'
import { launchChromium, startPageServer, type Chromium, type PageServer } from './harness.js'
import { MiB, PartPuts, addMadeFile, makeChunks, makeFileInPage, sha256Of, throttleUploads, waitForStatus, type FileSpec } from './page-tools.js'
import { deleteObject } from './swift-tools.js'

const MINUTES_10 = 10 * 60_000
const SKEWS = [
  ['10 min fast', MINUTES_10],
  ['10 min slow', -MINUTES_10],
] as const
const KEY_TTL = 4
/** 25 MiB in 5 MiB parts, 2 in flight, at 2 MiB/s: ~13 s (three key lifetimes); each part PUT ~5 s. */
const SIZE = 25 * MiB
const PART = 5 * MiB
const PARTS = SIZE / PART
const RATE = 2 * MiB

/**
 * An init script giving the page, and every worker it starts, a clock `offsetMs` off. Workers
 * are wrapped: the real script is loaded (importScripts, or import() for module workers) from a
 * blob: prelude that shifts the worker's `Date` first.
 */
function skewedClockScript(offsetMs: number): string {
  return `(() => {
  const install = ${installSkewedDate.toString()};
  const offset = ${JSON.stringify(offsetMs)};
  install(self, offset);
  const RealWorker = self.Worker;
  if (typeof RealWorker !== 'function') return;
  const prelude = '(' + install.toString() + ')(self, ' + JSON.stringify(offset) + ');\\n';
  self.Worker = class Worker extends RealWorker {
    constructor(url, options) {
      const href = new URL(String(url), location.href).href;
      const load = options && options.type === 'module' ? 'await import(' + JSON.stringify(href) + ');' : 'importScripts(' + JSON.stringify(href) + ');';
      super(URL.createObjectURL(new Blob([prelude + load], { type: 'text/javascript' })), options);
    }
  };
})();`
}

let browser: Chromium
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.log(figures.sort().join('\n'))
})

/** The example page with a clock `offsetMs` off, every worker it starts collected. */
async function openSkewed(server: PageServer, offsetMs: number): Promise<{ page: Page; workers: Worker[] }> {
  const page = await browser.context.newPage()
  page.on('pageerror', (error) => console.error('[page error]', error.message))
  const workers: Worker[] = []
  page.on('worker', (w) => workers.push(w))
  await page.addInitScript(skewedClockScript(offsetMs))
  await page.goto(server.url({ concurrency: 2, partSize: PART }))
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  return { page, workers }
}

/** How far a page's or worker's clock is from ours, ms (the call's round trip is well under a second). */
async function offsetOf(context: Pick<Page, 'evaluate'> | Pick<Worker, 'evaluate'>): Promise<number> {
  const before = Date.now()
  const theirs = await (context as Pick<Worker, 'evaluate'>).evaluate(() => Date.now())
  return theirs - (before + Date.now()) / 2
}

/**
 * `createdAt` of the resume state the client keeps in IndexedDB (written from the engine's clock
 * as the upload starts), polled until there is one; undefined if the upload ended first.
 */
async function stateCreatedAt(page: Page, id: string): Promise<number | undefined> {
  for (;;) {
    const found = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('valet', 1)
        // As the client's store does, should this run before it: never leave it a database without its store.
        r.onupgradeneeded = () => r.result.objectStoreNames.contains('uploads') || r.result.createObjectStore('uploads')
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error)
      })
      try {
        const all = await new Promise<unknown[]>((resolve, reject) => {
          const r = db.transaction('uploads', 'readonly').objectStore('uploads').getAll()
          r.onsuccess = () => resolve(r.result)
          r.onerror = () => reject(r.error)
        })
        const state = all.find((s) => typeof (s as { createdAt?: unknown }).createdAt === 'string') as { createdAt: string } | undefined
        return state ? Date.parse(state.createdAt) : undefined
      } finally {
        db.close()
      }
    })
    if (found !== undefined) return found
    const status = await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.status ?? '')
    if (status === 'done' || status === 'error') return undefined
    await page.waitForTimeout(100)
  }
}

describe.concurrent('Chromium with a wrong clock, 4 s keys, CDP-throttled link', () => {
  const cases = storageCases.flatMap((make) => SKEWS.map(([label, offset]) => [make().name, label, offset, make] as const))
  it.for(cases)('%s, clock %s (page and workers): complete, verified, no PUT on an expired key', async ([name, label, offset, make], { expect }) => {
    const real = make()
    let proxy: FaultProxy | undefined
    let server: PageServer | undefined
    let page: Page | undefined
    try {
      // Keys name the recording proxy; everything else is the storage itself.
      proxy = await startFaultProxy({ target: new URL(storageEndpoint(name)).origin })
      const viaProxy = proxy.endpointFor(storageEndpoint(name))
      const storage: StorageCase = { ...real, provider: () => providerAt(name, viaProxy) }
      server = await startPageServer(storage, { '/api/valet': { options: { keyTtl: KEY_TTL } } })
      const opened = await openSkewed(server, offset)
      page = opened.page
      const pageOffset = await offsetOf(page)
      expect(Math.abs(pageOffset - offset), `the page's clock is ${pageOffset} ms off`).toBeLessThan(2000)

      const spec: FileSpec = { name: `skew-${name}-${offset > 0 ? 'fast' : 'slow'}.bin`, size: SIZE, seed: offset > 0 ? 61 : 62, lastModified: 1_700_002_000_000 }
      const puts = new PartPuts(page)
      await throttleUploads(page, RATE)
      await makeFileInPage(page, spec)
      const id = await addMadeFile(page, spec.name)
      // The engine itself reads the wrong clock: its resume state is dated by it.
      const createdAt = await stateCreatedAt(page, id)
      const seenAt = Date.now()
      expect(createdAt, 'resume state seen in IndexedDB').toBeDefined()
      const engineOffset = createdAt! - seenAt
      expect(Math.abs(engineOffset - offset), `the engine dated its state ${engineOffset} ms from now`).toBeLessThan(10_000)
      const row = await waitForStatus(page, id, ['done'], 60_000)

      // The client's workers (hashing and sending) ran on the same wrong clock.
      const live = opened.workers.filter((w) => w.url().startsWith('blob:'))
      expect(live.length, 'the client started workers').toBeGreaterThan(0)
      const workerOffsets = await Promise.all(live.map((w) => offsetOf(w).catch(() => undefined)))
      const measured = workerOffsets.filter((o): o is number => o !== undefined)
      expect(measured.length).toBeGreaterThan(0)
      for (const o of measured) expect(Math.abs(o - offset), `a worker's clock is ${o} ms off`).toBeLessThan(2000)

      await expectStored(real, row.key, { size: spec.size, sha256: sha256Of(makeChunks(spec.size, spec.seed)) }, expect)
      if (real.name === 'swift') await deleteObject(row.key!) // keep Swift's disk small

      // Every part PUT, as storage saw it: on a live key, accepted, once.
      const parts = proxy.stats.parts
      for (const p of parts) {
        expect(p.keyExpiresAt, `part ${p.partNumber} carries an expiry`).toBeDefined()
        expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} arrived ${p.arrivedAt - p.keyExpiresAt!} ms after its key expired`).toBeLessThan(p.keyExpiresAt!)
        expect(p.storageStatus, `part ${p.partNumber} attempt ${p.attempt}`).toBeLessThan(300)
      }
      expect(parts.map((p) => p.partNumber).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
      expect(puts.failed).toEqual([])
      expect(puts.repeated()).toEqual([])
      const leastLeft = Math.min(...parts.map((p) => p.keyExpiresAt! - p.arrivedAt))
      const longestPut = Math.max(...parts.map((p) => (p.endedAt ?? p.arrivedAt) - p.arrivedAt))
      expect(longestPut, 'a part PUT outlasts a key').toBeGreaterThan(KEY_TTL * 1000)

      // Keys refreshed by the (corrected) clock: several sign calls, no re-sign loop.
      const signs = server.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/parts'))
      const keysSigned = signs.reduce((n, c) => n + (c.response?.parts?.length ?? 0), 0)
      expect(signs.every((c) => c.status === 200)).toBe(true)
      expect(signs.length).toBeGreaterThan(1)
      expect(keysSigned).toBeGreaterThanOrEqual(PARTS)
      expect(keysSigned).toBeLessThanOrEqual(3 * PARTS)
      expect(signs.length).toBeLessThanOrEqual(2 * PARTS)
      figures.push(
        `[clock skew chromium ${name}, ${label}] page ${(pageOffset / 1000).toFixed(1)} s off, engine's resume state dated ${(engineOffset / 1000).toFixed(1)} s off, ${measured.length} worker(s) ` +
          `${measured.map((o) => (o / 1000).toFixed(1)).join('/')} s off; ${row.elapsedMs} ms, ${parts.length} part PUTs for ${PARTS} parts, ` +
          `longest PUT ${(longestPut / 1000).toFixed(1)} s, ${signs.length} sign calls for ${keysSigned} keys, least key time left on arrival ${leastLeft} ms`,
      )
    } finally {
      await page?.close().catch(() => {})
      await server?.close()
      await proxy?.close()
    }
  })
})
