/**
 * Issue 16's "done when", for a page: Chromium downloads a 2 GiB Valet upload from Swift s3api
 * into an origin-private file, is reloaded halfway, downloads again, and ends with a file whose
 * bytes equal the upload's (SHA-256 of every 64 MiB slice, computed in the page, against the
 * same slices of the upload), having fetched again none of the parts staged before the reload.
 *
 * Heavy (2 GiB up and down): runs with `VALET_BIG=1` and in `pnpm test:soak`, skipped otherwise.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GiB, MiB } from '@valet/protocol'
import { swiftCase } from '../support/storages.js'
import { uploadThrough } from '../support/upload-through.js'
import { launchChromium, startPageServer, type Chromium, type PageServer } from './harness.js'
import { RangeGets, callOf, openPage, storedDone } from './download-tools.js'
import { makeChunks } from './page-tools.js'
import { deleteObject } from './swift-tools.js'

const BIG = process.env.VALET_BIG === '1' || process.env.VALET_SOAK === '1'
const SIZE = 2 * GiB
const PART = 64 * MiB
const SLICE = 64 * MiB

describe.skipIf(!BIG)('Chromium ← Swift: a 2 GiB download, reloaded halfway (VALET_BIG=1)', () => {
  let server: PageServer
  let browser: Chromium
  let key = ''
  let slices: string[] = []
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startPageServer(swiftCase(), { '/api/valet': { options: { canRead: () => true } } }), launchChromium()])
    const bytes = new Uint8Array(SIZE)
    let at = 0
    for (const c of makeChunks(SIZE, 77)) {
      bytes.set(c, at)
      at += c.byteLength
    }
    slices = []
    for (let s = 0; s < SIZE; s += SLICE) slices.push(createHash('sha256').update(bytes.subarray(s, s + SLICE)).digest('hex'))
    key = (await uploadThrough(callOf(server), 'browser-test', bytes, { name: 'big.bin', partSize: PART })).key
  }, 600_000)
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (key) await deleteObject(key).catch(() => {})
  })

  /** Starts the download in the page; `window.__big` gets the result (and per-slice SHA-256s) or the error. */
  const start = (page: import('playwright-core').Page) =>
    page.evaluate(
      async ({ key, slice }) => {
        const w = window as unknown as { __valet: any; __big: any } // eslint-disable-line @typescript-eslint/no-explicit-any
        w.__big = {}
        const handle = await (await navigator.storage.getDirectory()).getFileHandle('big.bin', { create: true })
        w.__valet.createDownloader({ endpoint: '/api/valet', concurrency: 4 }).download(key, handle).done.then(
          async (r: { size: number; verified: string }) => {
            const file = await handle.getFile()
            const hashes: string[] = []
            for (let s = 0; s < file.size; s += slice) {
              const digest = await crypto.subtle.digest('SHA-256', await file.slice(s, s + slice).arrayBuffer())
              hashes.push([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''))
            }
            w.__big = { result: { size: r.size, verified: r.verified, fileSize: file.size }, hashes }
          },
          (e: { code: string; message: string }) => (w.__big = { error: `${e.code}: ${e.message}` }),
        )
      },
      { key, slice: SLICE },
    )

  it('ends with the uploaded bytes; parts staged before the reload are not fetched again', async () => {
    const page = await openPage(browser.context, server.url())
    const gets = new RangeGets(page, PART)
    await start(page)
    await expect.poll(() => storedDone(page), { timeout: 600_000, interval: 500 }).toSatisfy((done: number[]) => done.length >= 16)
    const doneBefore = await storedDone(page)
    const sentBefore = gets.sent.length
    await page.reload()
    await page.waitForSelector('body[data-ready="true"]')
    await openPage(browser.context, server.url(), page)
    await start(page)
    await page.waitForFunction(() => {
      const big = (window as unknown as { __big?: { result?: unknown; error?: unknown } }).__big
      return big?.result !== undefined || big?.error !== undefined
    }, undefined, { timeout: 900_000, polling: 500 })
    const out = await page.evaluate(() => (window as unknown as { __big: { result?: { size: number; verified: string; fileSize: number }; hashes?: string[]; error?: string } }).__big)
    expect(out.error).toBeUndefined()
    const after = gets.sent.slice(sentBefore)
    console.log(`[browser] 2 GiB across a reload: ${doneBefore.length} of 32 parts staged before it, ${after.length} fetched after it`)
    expect(out.result).toEqual({ size: SIZE, verified: 'parts', fileSize: SIZE })
    expect(out.hashes).toEqual(slices)
    expect(after.filter((i) => doneBefore.includes(i))).toEqual([])
    await page.close()
  }, 1_200_000)
})
