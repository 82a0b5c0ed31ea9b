/** Messages between the page and its Valet workers (hashing and sending parts). */

/** A file range the worker slices itself, so the page's thread never does. */
export interface RangeBody {
  file: Blob
  start: number
  end: number
}

export type WorkerBody = Blob | ArrayBuffer | RangeBody

/**
 * Which MD5 a worker may use: `auto` is WebAssembly (hash-wasm) where it runs, else spark-md5;
 * `spark-md5` forces the portable pure-JS path (comparisons, or a page that wants no WebAssembly).
 */
export type Md5Engine = 'auto' | 'spark-md5'

export type WorkerRequest =
  | { kind: 'hash'; id: number; body: WorkerBody; engine: Md5Engine }
  | {
      kind: 'put'
      id: number
      method: string
      url: string
      headers: Record<string, string>
      body: WorkerBody
      progress: boolean
    }
  | { kind: 'abort'; id: number }

export type WorkerReply =
  | { kind: 'md5'; id: number; md5: string; engine: 'hash-wasm' | 'spark-md5' }
  | { kind: 'read-error'; id: number; name: string; message: string }
  | { kind: 'progress'; id: number; loaded: number }
  | { kind: 'response'; id: number; status: number; headers: Record<string, string>; body: string }
  | { kind: 'network-error'; id: number; message: string }

export function isRangeBody(body: WorkerBody): body is RangeBody {
  return typeof body === 'object' && body !== null && !(body instanceof Blob) && !(body instanceof ArrayBuffer)
}

/** `getAllResponseHeaders()` text → lower-case header map. */
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of text.trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return headers
}
