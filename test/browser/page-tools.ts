/**
 * What the tests do to and learn from the page: deterministic file contents made the same way in
 * Node and in the page, files added through the page's hook or its real file input, row states,
 * and every part PUT Chromium sent, counted per part number.
 */
import { createHash } from 'node:crypto'
import { writeFile, utimes } from 'node:fs/promises'
import type { CDPSession, Page, Request } from 'playwright-core'

export const MiB = 1024 * 1024

/**
 * The test data recipe, self-contained so Playwright can ship it to the page: 1 MiB chunks of
 * one xorshift32 stream, with the chunk's index mixed into every 4 KiB so no two chunks (and no
 * two parts) are alike.
 */
export function makeChunks(size: number, seed: number): Uint8Array[] {
  const CHUNK = 1024 * 1024
  const base = new Uint32Array(CHUNK / 4)
  let x = seed >>> 0 || 1
  for (let i = 0; i < base.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    base[i] = x >>> 0
  }
  const chunks: Uint8Array[] = []
  for (let index = 0, at = 0; at < size; index++, at += CHUNK) {
    const words = base.slice()
    for (let w = 0; w < words.length; w += 1024) words[w] = (words[w]! ^ Math.imul(index + 1, 0x9e3779b1) ^ w) >>> 0
    chunks.push(new Uint8Array(words.buffer, 0, Math.min(CHUNK, size - at)))
  }
  return chunks
}

export function sha256Of(chunks: Uint8Array[]): string {
  const hash = createHash('sha256')
  for (const c of chunks) hash.update(c)
  return hash.digest('hex')
}

export interface FileSpec {
  name: string
  size: number
  seed: number
  lastModified: number
  type?: string
}

/** Makes the file in the page and keeps it as `window.__files[name]` (for a raw PUT, or to add again). */
export async function makeFileInPage(page: Page, spec: FileSpec): Promise<void> {
  await page.evaluate(
    ({ spec, recipe }) => {
      // eslint-disable-next-line no-new-func
      const make = new Function(`return (${recipe})`)() as (size: number, seed: number) => Uint8Array[]
      const w = window as unknown as { __files?: Record<string, File> }
      w.__files ??= {}
      w.__files[spec.name] = new File(make(spec.size, spec.seed) as BlobPart[], spec.name, {
        type: spec.type ?? 'application/octet-stream',
        lastModified: spec.lastModified,
      })
    },
    { spec, recipe: makeChunks.toString() },
  )
}

/** Adds a file made by {@link makeFileInPage} to the page's list; returns its row id. */
export async function addMadeFile(page: Page, name: string): Promise<string> {
  return page.evaluate((name) => {
    const w = window as unknown as { __files: Record<string, File>; valetExample: { addFiles(files: File[]): string[] } }
    return w.valetExample.addFiles([w.__files[name]!])[0]!
  }, name)
}

/** Writes the file to disk with its mtime, for the page's real `<input type=file>`. */
export async function writeFileSpec(path: string, spec: FileSpec): Promise<string> {
  const chunks = makeChunks(spec.size, spec.seed)
  await writeFile(path, chunks)
  const when = new Date(spec.lastModified)
  await utimes(path, when, when)
  return sha256Of(chunks)
}

export interface RowState {
  status: string
  bytesSent: number
  partsDone: number
  partsTotal: number
  key: string | undefined
  error: string
  elapsedMs: number | undefined
  /** Parts storage already had when the upload started (a resume). */
  resumedParts: number
}

export async function rowState(page: Page, id: string): Promise<RowState> {
  return page.$eval(`#${id}`, (el) => {
    const d = (el as HTMLElement).dataset
    return {
      status: d.status ?? '',
      bytesSent: Number(d.bytesSent ?? 0),
      partsDone: Number(d.partsDone ?? 0),
      partsTotal: Number(d.partsTotal ?? 0),
      key: d.key,
      error: el.querySelector('.upload-error')?.textContent ?? '',
      elapsedMs: d.elapsedMs === undefined ? undefined : Number(d.elapsedMs),
      resumedParts: Number(d.resumedParts ?? 0),
    }
  })
}

/** Waits until the row's status is one of `statuses`; throws with the row's error otherwise. */
export async function waitForStatus(page: Page, id: string, statuses: string[], timeout = 150_000): Promise<RowState> {
  await page.waitForFunction(
    ({ id, statuses }) => {
      const status = document.getElementById(id)?.dataset.status ?? ''
      return statuses.includes(status) || status === 'error'
    },
    { id, statuses },
    { timeout, polling: 100 },
  )
  const state = await rowState(page, id)
  if (!statuses.includes(state.status)) throw new Error(`row ${id} ended ${state.status}: ${state.error}`)
  return state
}

/** Waits until the row has sent at least `fraction` of its bytes. */
export async function waitForProgress(page: Page, id: string, fraction: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    ({ id, fraction }) => {
      const d = document.getElementById(id)?.dataset
      return d !== undefined && Number(d.bytesSent) >= fraction * Number(d.size)
    },
    { id, fraction },
    { timeout, polling: 50 },
  )
}

/** The part number of a part PUT: S3 `?partNumber=`, Azure `?comp=block&blockid=`. */
export function partNumberOf(url: string): number | undefined {
  const u = new URL(url)
  const n = u.searchParams.get('partNumber')
  if (n !== null) return Number(n)
  const block = u.searchParams.get('blockid')
  if (u.searchParams.get('comp') === 'block' && block !== null) {
    // `PPPPP.<upload id>.<md5>`: see packages/server/src/azure/block-id.ts.
    const digits = /^(\d{5})\./.exec(Buffer.from(block, 'base64').toString('latin1'))
    return digits ? Number(digits[1]) : undefined
  }
  return undefined
}

/** Every part PUT the page sends, across reloads, and how each ended. */
export class PartPuts {
  readonly sent = new Map<number, number>()
  readonly failed: { partNumber: number; error: string }[] = []
  readonly statuses: { partNumber: number; status: number }[] = []
  /** ms from sending each finished part PUT to its answer's end. */
  readonly durations: number[] = []

  constructor(page: Page) {
    const part = (r: Request): number | undefined => (r.method() === 'PUT' ? partNumberOf(r.url()) : undefined)
    page.on('request', (r) => {
      const n = part(r)
      if (n !== undefined) this.sent.set(n, (this.sent.get(n) ?? 0) + 1)
    })
    page.on('requestfailed', (r) => {
      const n = part(r)
      if (n !== undefined) this.failed.push({ partNumber: n, error: r.failure()?.errorText ?? '' })
    })
    page.on('response', (res) => {
      const n = part(res.request())
      if (n !== undefined) this.statuses.push({ partNumber: n, status: res.status() })
    })
    page.on('requestfinished', (r) => {
      if (part(r) !== undefined) this.durations.push(r.timing().responseEnd)
    })
  }

  total(): number {
    let sum = 0
    for (const v of this.sent.values()) sum += v
    return sum
  }

  /** Part numbers sent more than once. */
  repeated(): number[] {
    return [...this.sent].filter(([, count]) => count > 1).map(([n]) => n)
  }
}

/** Limits the page's upload bandwidth (all requests together), bytes/s; `undefined` lifts it. */
export async function throttleUploads(page: Page, bytesPerSecond: number | undefined): Promise<void> {
  await throttle(page, { upload: bytesPerSecond })
}

/** Limits the page's download bandwidth (all responses together), bytes/s; `undefined` lifts it. */
export async function throttleDownloads(page: Page, bytesPerSecond: number | undefined): Promise<void> {
  await throttle(page, { download: bytesPerSecond })
}

// One session per page: conditions set through one session are lifted only through it.
const sessions = new WeakMap<Page, Promise<CDPSession>>()

async function throttle(page: Page, limits: { upload?: number; download?: number }): Promise<void> {
  let session = sessions.get(page)
  if (session === undefined) {
    session = page.context().newCDPSession(page).then(async (cdp) => {
      await cdp.send('Network.enable')
      return cdp
    })
    sessions.set(page, session)
  }
  const cdp = await session
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: limits.download ?? -1,
    uploadThroughput: limits.upload ?? -1,
  })
}

/** A whole-file `fetch` PUT of a page-made file to a presigned URL: the baseline a multipart client is held to. */
export async function rawPut(page: Page, url: string, name: string): Promise<{ status: number; ms: number }> {
  return page.evaluate(
    async ({ url, name }) => {
      const file = (window as unknown as { __files: Record<string, File> }).__files[name]!
      const t0 = performance.now()
      const res = await fetch(url, { method: 'PUT', body: file })
      return { status: res.status, ms: performance.now() - t0 }
    },
    { url, name },
  )
}
