/**
 * Downloads in Chromium from real OpenStack Swift (s3api), issue 16: an object uploaded through
 * Valet is read back with read keys into the origin-private file system, verified part by part,
 * and handed to a file handle or a Blob; a reload mid-way continues from the ranges staged, and a
 * range whose bytes were corrupted in transit is detected and fetched again.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { azuriteCase, swiftCase } from '../support/storages.js'
import { uploadThrough } from '../support/upload-through.js'
import { launchChromium, startPageServer, type Chromium, type PageServer } from './harness.js'
import { RangeGets, callOf, openPage, outcome, stagingDirs, startDownload, storedDone } from './download-tools.js'
import { makeChunks, sha256Of, throttleDownloads } from './page-tools.js'
import { deleteObject } from './swift-tools.js'

const storage = swiftCase()
const PART = 5 * MiB
let server: PageServer
let browser: Chromium
/** One object for every case: 24 MiB in 5 parts of 5 MiB (the last 4 MiB), a Valet multipart upload. */
let object: { key: string; size: number; sha256: string; ranges: number }

beforeAll(async () => {
  ;[server, browser] = await Promise.all([startPageServer(storage, { '/api/valet': { options: { canRead: () => true } } }), launchChromium()])
  const size = 24 * MiB
  const chunks = makeChunks(size, 61)
  const bytes = new Uint8Array(size)
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0)
  const up = await uploadThrough(callOf(server), 'browser-test', bytes, { name: 'download.bin', partSize: PART })
  object = { key: up.key, size, sha256: sha256Of(chunks), ranges: Math.ceil(size / PART) }
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  if (object) await deleteObject(object.key).catch(() => {})
})

describe('Chromium ← Swift s3api downloads', () => {
  it('downloads to an OPFS file handle, one GET per part, verified against the parts, staging removed', async () => {
    const page = await openPage(browser.context, server.url())
    const gets = new RangeGets(page, PART)
    await startDownload(page, object.key, { handle: 'out-a.bin' }, { concurrency: 3 })
    const { result, progress } = await outcome(page)
    expect(result).toMatchObject({ key: object.key, size: object.size, verified: 'parts', type: 'application/octet-stream', hasBlob: false, sha256: object.sha256 })
    expect(gets.sent.sort()).toEqual([0, 1, 2, 3, 4])
    expect(progress.at(-1)).toMatchObject({ rangesDone: object.ranges, rangesTotal: object.ranges, phase: 'complete' })
    expect(await stagingDirs(page)).toEqual([])
    expect(await storedDone(page)).toEqual([])
    await page.close()
  })

  it('continues after a reload from the ranges staged in OPFS: no range stored before the reload is fetched again', async () => {
    const page = await openPage(browser.context, server.url())
    const gets = new RangeGets(page, PART)
    await throttleDownloads(page, 3 * MiB)
    await startDownload(page, object.key, { handle: 'out-b.bin' }, { concurrency: 2 })
    await expect.poll(() => storedDone(page), { timeout: 60_000, interval: 200 }).toSatisfy((done: number[]) => done.length >= 2)
    const doneBefore = await storedDone(page)
    const sentBefore = gets.sent.length
    await page.reload()
    await page.waitForSelector('body[data-ready="true"]')
    await throttleDownloads(page, undefined)
    await openPage(browser.context, server.url(), page)
    await startDownload(page, object.key, { handle: 'out-b.bin' }, { concurrency: 2 })
    const { result, progress } = await outcome(page)
    const after = gets.sent.slice(sentBefore)
    console.log(`[browser] download across a reload: ranges stored before it [${doneBefore.join(', ')}], fetched after it [${after.join(', ')}]`)
    expect(result).toMatchObject({ verified: 'parts', sha256: object.sha256 })
    expect(after.filter((i) => doneBefore.includes(i))).toEqual([])
    expect(after.length).toBe(object.ranges - doneBefore.length)
    expect(Math.max(...progress.map((p) => p.bytesResumed))).toBeGreaterThanOrEqual(doneBefore.length * PART - PART)
    expect(await stagingDirs(page)).toEqual([])
    await page.close()
  })

  it('with no destination: a Blob of the verified object, read from staging kept while the page holds it', async () => {
    const page = await openPage(browser.context, server.url())
    await startDownload(page, object.key, { blob: true }, { concurrency: 4 })
    const { result } = await outcome(page)
    expect(result).toMatchObject({ verified: 'parts', hasBlob: true, size: object.size, sha256: object.sha256 })
    // The Blob reads from its range files: they stay until this page is gone.
    expect((await stagingDirs(page)).length).toBe(1)
    await page.close()
  })

  it('a range whose bytes were flipped in transit fails its part MD5 and is fetched again', async () => {
    const page = await openPage(browser.context, server.url())
    const gets = new RangeGets(page, PART)
    const storageOrigin = new URL(inject('swift').endpoint).origin
    let flipped = 0
    await page.route(`${storageOrigin}/**`, async (route) => {
      const range = /^bytes=(\d+)-/.exec(route.request().headers()['range'] ?? '')
      if (route.request().method() !== 'GET' || range === null || Number(range[1]) !== PART || flipped > 0) return route.continue()
      flipped++
      const response = await route.fetch()
      const body = await response.body()
      body[12345] = body[12345]! ^ 0x01
      await route.fulfill({ response, body })
    })
    await startDownload(page, object.key, { handle: 'out-d.bin' }, { concurrency: 2 })
    const { result } = await outcome(page)
    expect(flipped).toBe(1)
    expect(gets.count(1)).toBe(2)
    expect(result).toMatchObject({ verified: 'parts', sha256: object.sha256 })
    await page.close()
  })

  it('pause stops GETs and keeps staging; resume finishes verified; abort removes staging and state', async () => {
    const page = await openPage(browser.context, server.url())
    const gets = new RangeGets(page, PART)
    const control = (action: 'pause' | 'resume' | 'abort') => page.evaluate((a) => (window as unknown as { __dlControl: Record<string, () => void> }).__dlControl[a]!(), action)
    await throttleDownloads(page, 4 * MiB)
    await startDownload(page, object.key, { handle: 'out-p.bin' }, { concurrency: 2 })
    await expect.poll(() => storedDone(page), { timeout: 60_000, interval: 200 }).toSatisfy((done: number[]) => done.length >= 1)
    await control('pause')
    const atPause = gets.sent.length
    await page.waitForTimeout(1500)
    expect(gets.sent.length).toBe(atPause)
    expect((await stagingDirs(page)).length).toBeGreaterThanOrEqual(1)
    await throttleDownloads(page, undefined)
    await control('resume')
    expect((await outcome(page)).result).toMatchObject({ verified: 'parts', sha256: object.sha256 })
    // Only ranges in flight at the pause went twice.
    expect(gets.sent.length).toBeLessThanOrEqual(object.ranges + 2)

    await throttleDownloads(page, 4 * MiB)
    await startDownload(page, object.key, { handle: 'out-x.bin' }, { concurrency: 2 })
    await expect.poll(() => storedDone(page), { timeout: 60_000, interval: 200 }).toSatisfy((done: number[]) => done.length >= 1)
    await control('abort')
    expect((await outcome(page, true)).error?.code).toBe('aborted')
    await expect.poll(() => stagingDirs(page)).toEqual([])
    expect(await storedDone(page)).toEqual([])
    await page.close()
  })

  it('a second tab downloading the same key to the same destination is refused while the first runs (Web Lock)', async () => {
    const [one, two] = [await openPage(browser.context, server.url()), await openPage(browser.context, server.url())]
    await throttleDownloads(one, 2 * MiB)
    await startDownload(one, object.key, { handle: 'tabs.bin' }, { concurrency: 2 })
    await expect.poll(() => one.evaluate(() => (window as unknown as { __dl: { progress: unknown[] } }).__dl.progress.length)).toBeGreaterThan(0)
    await startDownload(two, object.key, { handle: 'tabs.bin' }, { concurrency: 2 })
    const { error } = await outcome(two, true)
    expect(error?.code).toBe('invalid_option')
    expect(error?.message).toMatch(/in another tab/)
    await throttleDownloads(one, undefined)
    expect((await outcome(one)).result).toMatchObject({ sha256: object.sha256 })
    await Promise.all([one.close(), two.close()])
  })

  it('createIndexedDbDownloadStore: round trip, stale records ignored and swept on open, a same-named database without its store upgraded', async () => {
    const page = await openPage(browser.context, server.url())
    const got = await page.evaluate(async () => {
      const w = window as unknown as { __valet: { createIndexedDbDownloadStore(o: { database: string }): any } } // eslint-disable-line @typescript-eslint/no-explicit-any
      // Someone else's database of that name, version 1, no object store.
      await new Promise<void>((resolve, reject) => {
        const r = indexedDB.open('dl-store-test', 1)
        r.onsuccess = () => (r.result.close(), resolve())
        r.onerror = () => reject(r.error)
      })
      const state = (updatedAt: string) => ({ version: 1, key: 'k', etag: '"e"', size: 10, rangeSize: 5, done: [0], updatedAt })
      const first = w.__valet.createIndexedDbDownloadStore({ database: 'dl-store-test' })
      await first.set('fresh', state(new Date().toISOString()))
      await first.set('stale', state(new Date(Date.now() - 8 * 24 * 3600_000).toISOString()))
      const read = { fresh: await first.get('fresh'), stale: await first.get('stale'), missing: await first.get('missing') }
      await first.remove('fresh')
      const afterRemove = await first.get('fresh')
      // A new store (a reloaded page) sweeps on open: the stale record is gone from the database.
      const second = w.__valet.createIndexedDbDownloadStore({ database: 'dl-store-test' })
      await second.ready()
      const keys = await new Promise<IDBValidKey[]>((resolve) => {
        const r = indexedDB.open('dl-store-test')
        r.onsuccess = () => {
          const all = r.result.transaction('downloads').objectStore('downloads').getAllKeys()
          all.onsuccess = () => resolve(all.result)
        }
      })
      return { read, afterRemove, keys }
    })
    expect(got.read.fresh).toMatchObject({ key: 'k', done: [0] })
    expect(got.read.stale).toBeUndefined()
    expect(got.read.missing).toBeUndefined()
    expect(got.afterRemove).toBeUndefined()
    expect(got.keys).toEqual([])
    await page.close()
  })

  it('to a WritableStream: the verified bytes in order, then the stream closed', async () => {
    const page = await openPage(browser.context, server.url())
    await startDownload(page, object.key, { stream: true }, { concurrency: 3 })
    const { result } = await outcome(page)
    expect(result).toMatchObject({ verified: 'parts', hasBlob: false, sha256: object.sha256 })
    // (The Blob case's staging, its page closed, goes with this page's sweep.)
    await expect.poll(() => stagingDirs(page)).toEqual([])
    await page.close()
  })

  it('where the origin-private file system is refused: a Blob staged in memory up to maxBlobSize, file_too_large above it', async () => {
    const page = await browser.context.newPage()
    await page.addInitScript(() => {
      StorageManager.prototype.getDirectory = () => Promise.reject(new DOMException('blocked by the test', 'SecurityError'))
    })
    await page.goto(server.url())
    await page.waitForSelector('body[data-ready="true"]')
    await openPage(browser.context, server.url(), page)
    await startDownload(page, object.key, { blob: true }, { concurrency: 3, maxBlobSize: 32 * MiB })
    expect((await outcome(page)).result).toMatchObject({ verified: 'parts', hasBlob: true, sha256: object.sha256 })
    await startDownload(page, object.key, { blob: true }, { concurrency: 3, maxBlobSize: 16 * MiB })
    const { error } = await outcome(page, true)
    expect(error?.code).toBe('file_too_large')
    expect(error?.message).toMatch(/above maxBlobSize .*pass a FileSystemFileHandle or a WritableStream/)
    await page.close()
  })

  it('under a CSP that refuses WebAssembly: MD5 falls back to spark-md5 and every part still verifies', async () => {
    const page = await openPage(browser.context, server.url({ csp: 'no-wasm' }))
    const wasm = await page.evaluate(() => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(() => 'compiles', (e: Error) => e.name))
    expect(wasm).toBe('CompileError')
    await startDownload(page, object.key, { handle: 'out-csp.bin' }, { concurrency: 3 })
    expect((await outcome(page)).result).toMatchObject({ verified: 'parts', sha256: object.sha256 })
    await page.close()
  })
})

describe('Chromium ← Swift s3api downloads, other integrity', () => {
  it('a single-PUT object is checked against its whole MD5 (read back from staging); so is one a plain PUT wrote outside Valet (its ETag is its MD5)', async () => {
    const single = makeChunks(3 * MiB + 17, 71)
    const bytes = new Uint8Array(await new Blob(single as BlobPart[]).arrayBuffer())
    const up = await uploadThrough(callOf(server), 'browser-test', bytes, { name: 'single.bin', md5: true })
    expect(up.mode).toBe('single')
    const foreignKey = `${up.key}.foreign`
    await storage.write(foreignKey, bytes)
    const page = await openPage(browser.context, server.url())
    // Ranges of 1 MiB, so the whole-object MD5 spans several staged range files.
    await startDownload(page, up.key, { blob: true }, { concurrency: 2, rangeSize: 1 * MiB })
    expect((await outcome(page)).result).toMatchObject({ verified: 'md5', size: bytes.byteLength, sha256: sha256Of(single) })
    await startDownload(page, foreignKey, { handle: 'foreign.bin' }, { concurrency: 2 })
    expect((await outcome(page)).result).toMatchObject({ verified: 'md5', sha256: sha256Of(single) })
    await page.close()
    await Promise.all([deleteObject(up.key), deleteObject(foreignKey)])
  })
})

describe('Chromium ← Azurite downloads', () => {
  const azurite = azuriteCase()
  let azServer: PageServer
  let azObject: { key: string; sha256: string; size: number }
  beforeAll(async () => {
    azServer = await startPageServer(azurite, { '/api/valet': { options: { canRead: () => true } } })
    const size = 13 * MiB + 4321
    const chunks = makeChunks(size, 67)
    const bytes = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer())
    const up = await uploadThrough(callOf(azServer), 'browser-test', bytes, { name: 'az-download.bin', partSize: PART })
    azObject = { key: up.key, sha256: sha256Of(chunks), size }
  })
  afterAll(async () => {
    await azServer?.close()
  })

  it('downloads a Valet multipart upload (block ids carry the part MD5s) to an OPFS file handle, verified', async () => {
    const page = await openPage(browser.context, azServer.url())
    await startDownload(page, azObject.key, { handle: 'out-az.bin' }, { concurrency: 3 })
    expect((await outcome(page)).result).toMatchObject({ verified: 'parts', size: azObject.size, sha256: azObject.sha256 })
    await page.close()
  })
})
