/**
 * The download tests' page kit: downloads started in the page through the client bundle, their
 * outcome with the sha256 of what the destination got, the ranged GETs the page sent to storage,
 * and what OPFS staging and the IndexedDB download state hold.
 */
import { inject } from 'vitest'
import type { BrowserContext, Page, Request } from 'playwright-core'
import { openExample, type PageServer } from './harness.js'

/** The key endpoint of `at` as uploadThrough calls it. */
export function callOf(at: PageServer) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${at.endpoint}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
}


/** The page's ranged GETs to storage, by range index (part-aligned ranges of `part` bytes: start / part). */
export class RangeGets {
  readonly sent: number[] = []
  constructor(page: Page, private readonly part: number) {
    const storageOrigin = new URL(inject('swift').endpoint).origin
    page.on('request', (r: Request) => {
      if (r.method() !== 'GET' || new URL(r.url()).origin !== storageOrigin) return
      const range = /^bytes=(\d+)-/.exec(r.headers()['range'] ?? '')
      if (range) this.sent.push(Number(range[1]) / this.part)
    })
  }
  count(index: number): number {
    return this.sent.filter((i) => i === index).length
  }
}

export interface PageOutcome {
  result?: { key: string; size: number; etag: string; type: string; verified: string; hasBlob: boolean; sha256: string }
  error?: { code: string; message: string }
  progress: { rangesDone: number; rangesTotal: number; bytesResumed: number; phase: string }[]
}

/** Opens the example page (for its origin) with the client bundle as `window.__valet`. */
export async function openPage(context: BrowserContext, url: string, page?: Page): Promise<Page> {
  page ??= await openExample(context, url)
  await page.evaluate("import('/valet-client.js').then((m) => { window.__valet = m })")
  return page
}

export type Destination = { handle: string } | { stream: true } | { blob: true }

/**
 * Starts `download(key, destination)` in the page: an OPFS file handle named `handle`, a
 * WritableStream collecting what it is given, or nothing (a Blob). The outcome lands in
 * `window.__dl`, with the sha256 of what the destination got.
 */
export async function startDownload(page: Page, key: string, destination: Destination, options: Record<string, unknown> & { concurrency: number }, endpoint = '/api/valet'): Promise<void> {
  await page.evaluate(
    async ({ key, destination, options, endpoint }) => {
      const w = window as unknown as { __valet: any; __dl: PageOutcome; __dlControl: unknown } // eslint-disable-line @typescript-eslint/no-explicit-any
      const out: PageOutcome = { progress: [] }
      w.__dl = out
      const hex = async (blob: Blob) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, '0')).join('')
      const streamed: Uint8Array[] = []
      let streamClosed = false
      const target =
        'handle' in destination
          ? await (await navigator.storage.getDirectory()).getFileHandle(destination.handle, { create: true })
          : 'stream' in destination
            ? new WritableStream<Uint8Array>({ write: (c) => void streamed.push(c.slice()), close: () => void (streamClosed = true) })
            : undefined
      const dl = (w.__dlControl = w.__valet.createDownloader({ endpoint, ...options }).download(key, target, {
        onProgress: (p: PageOutcome['progress'][number]) => out.progress.push({ rangesDone: p.rangesDone, rangesTotal: p.rangesTotal, bytesResumed: p.bytesResumed, phase: p.phase }),
      }))
      dl.done.then(
        async (r: { key: string; size: number; etag: string; type: string; verified: string; blob?: Blob }) => {
          if ('stream' in destination && !streamClosed) throw new Error('the stream was not closed')
          const bytes = r.blob ?? ('stream' in destination ? new Blob(streamed as BlobPart[]) : await (target as FileSystemFileHandle).getFile())
          out.result = { key: r.key, size: r.size, etag: r.etag, type: r.type, verified: r.verified, hasBlob: r.blob !== undefined, sha256: await hex(bytes) }
        },
        (e: { code: string; message: string }) => (out.error = { code: e.code, message: e.message }),
      ).catch((e: Error) => (out.error = { code: 'test', message: e.message }))
    },
    { key, destination, options, endpoint },
  )
}

export async function outcome(page: Page, expectError = false): Promise<PageOutcome> {
  await page.waitForFunction(() => {
    const dl = (window as unknown as { __dl?: PageOutcome }).__dl
    return dl?.result !== undefined || dl?.error !== undefined
  }, undefined, { timeout: 150_000, polling: 100 })
  const out = await page.evaluate(() => (window as unknown as { __dl: PageOutcome }).__dl)
  if (out.error && !expectError) throw new Error(`download failed: ${out.error.code}: ${out.error.message}`)
  return out
}

/** Names in the OPFS staging directory (`valet-downloads`). */
export async function stagingDirs(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory()
    const dir = await root.getDirectoryHandle('valet-downloads', { create: true })
    const names: string[] = []
    for await (const [name] of (dir as unknown as { entries(): AsyncIterable<[string, unknown]> }).entries()) names.push(name)
    return names
  })
}

/** Range indices the IndexedDB download state calls done, across every stored download. */
export async function storedDone(page: Page): Promise<number[]> {
  return page.evaluate(
    () =>
      new Promise<number[]>((resolve) => {
        const request = indexedDB.open('valet-downloads')
        // Not there yet: don't create it (the download's store will).
        request.onupgradeneeded = () => request.transaction?.abort()
        request.onsuccess = () => {
          const db = request.result
          if (!db.objectStoreNames.contains('downloads')) return resolve([])
          const all = db.transaction('downloads').objectStore('downloads').getAll()
          all.onsuccess = () => {
            db.close()
            resolve((all.result as { done: number[] }[]).flatMap((s) => s.done))
          }
          all.onerror = () => resolve([])
        }
        request.onerror = () => resolve([])
      }),
  )
}

