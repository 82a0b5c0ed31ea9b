/**
 * The ports of the download engine (issue 16). What differs between Node and browsers sits
 * behind these: Node binds them in `node/` (node:http GETs written in place into a temporary
 * file, renamed when verified), browsers in `browser/` (fetch into origin-private range files,
 * copied to the destination when verified). The engine imports no platform module.
 */

/** One ranged GET with a read key. */
export interface RangeGetRequest {
  url: string
  /** Sent exactly as signed (`Range`, `If-Match`, provider headers). */
  headers: Record<string, string>
  signal: AbortSignal
  /**
   * Receives the body of a 2xx answer as it arrives; the next chunk waits for the returned
   * promise, if it returns one (backpressure); a throw ends the GET like a rejection. Never
   * called for other statuses. The chunk is the receiver's to keep
   * (Node's socket buffers and a fetch reader's chunks are never reused), so writers may gather
   * chunks without copying them.
   */
  onChunk(chunk: Uint8Array): void | Promise<void>
}

export interface RangeGetResponse {
  status: number
  /** Lower-case names. */
  headers: Record<string, string>
  /** A non-2xx answer's body as text, for error messages; '' after a 2xx (its body went to `onChunk`). */
  body: string
}

/**
 * Sends ranged GETs. Resolves once the whole body was delivered (any status: the engine
 * classifies it); rejects with `signal.reason` when aborted, `ValetError('network_error')` when
 * the connection fails or the body ends early, and with whatever `onChunk` threw.
 */
export interface RangeFetcher {
  get(request: RangeGetRequest): Promise<RangeGetResponse>
}

/** An MD5 fed in pieces. */
export interface Md5Stream {
  update(bytes: Uint8Array): void
  /** Base64 MD5 of everything fed so far; the stream is spent after it. */
  digest(): string
}

/** Writes one range into staging, chunk after chunk, from its start. */
export interface RangeWriter {
  /**
   * Takes the next chunk; returns a promise only when the caller must wait for it before sending
   * more (backpressure), which may resolve before the bytes are stored (a writer gathers chunks).
   * `commit` stores them all. Throws, or rejects, when the chunk cannot be taken.
   */
  write(chunk: Uint8Array): void | Promise<void>
  /** Every byte of the range was written and checked: keep it (durable across a kill or reload). */
  commit(): Promise<void>
  /** The attempt failed: what it wrote does not count (the range is written again from its start). */
  discard(): Promise<void>
}

/**
 * Where one download's bytes wait until the whole object is verified, then the destination.
 * Node: a temporary file beside the destination, written in place. Browsers: one file per range
 * in the origin-private file system (or memory where there is none).
 */
export interface DownloadSink {
  /**
   * Whether bytes of an earlier run of this download were found (same fingerprint, size): the
   * engine then re-checks the ranges its state calls done, against staging, before trusting them.
   */
  readonly resumed: boolean
  /** A writer for `[start, end)`; ranges are written concurrently, each one sequentially. */
  writer(start: number, end: number): Promise<RangeWriter>
  /**
   * Whether staging holds a committed range `[start, end)`: asked on resume for ranges with no MD5
   * to re-check them by. Absent: staging cannot lose a range on its own (a preallocated file).
   */
  holds?(start: number, end: number): Promise<boolean>
  /** Reads staged bytes `[start, end)` back in chunks (re-checks on resume, whole-object MD5). */
  read(start: number, end: number, signal: AbortSignal): AsyncIterable<Uint8Array>
  /** Every byte is verified: hand the object to its destination (rename, copy, Blob). */
  finish(signal: AbortSignal): Promise<{ path?: string; blob?: Blob }>
  /** Stops for now (pause, failure): closes handles and keeps staging for a later run. */
  close(): Promise<void>
  /** Forgets staging (abort, object replaced): nothing of it is left. */
  discard(): Promise<void>
}

/** What a sink is opened for. */
export interface SinkPlan {
  /** The download's fingerprint (hex): names its staging. */
  fingerprint: string
  key: string
  size: number
  etag: string
  /** Reuse staging of an earlier run if there is one; false: start from nothing (and remove any). */
  resume: boolean
}

/** A checked destination, ready to open a sink once the object is known. */
export interface PreparedDestination {
  /** Stable facts about the destination (an absolute path, a handle's name), for the fingerprint. */
  readonly id: string
  open(plan: SinkPlan, signal: AbortSignal): Promise<DownloadSink>
}

/**
 * What the engine remembers about an unfinished download, so a later run (another process, a
 * reloaded page) fetches only the ranges still missing.
 */
export interface DownloadState {
  version: 1
  key: string
  /** The object version the done ranges belong to: another ETag means start over. */
  etag: string
  size: number
  /** How the object was cut into ranges: `rangeSize` for equal ranges, else part-aligned. */
  rangeSize: number
  /** Indices of ranges written, verified (where anything can verify them) and committed. */
  done: number[]
  /** ISO time the state was last written: stale ones are dropped. */
  updatedAt: string
}

/**
 * Where download state lives: a JSON file per download in Node (`stateDir`), IndexedDB in
 * browsers, or your own. Keys are fingerprints (hex strings).
 *
 * @example
 * ```ts
 * const memory = new Map<string, DownloadState>()
 * const store: DownloadStateStore = {
 *   async get(fp) { return memory.get(fp) },
 *   async set(fp, state) { memory.set(fp, state) },
 *   async remove(fp) { memory.delete(fp) },
 * }
 * createDownloader({ endpoint, resume: store })
 * ```
 */
export interface DownloadStateStore {
  get(fingerprint: string): Promise<DownloadState | undefined>
  set(fingerprint: string, state: DownloadState): Promise<void>
  remove(fingerprint: string): Promise<void>
}

/** Whether a stored value is a {@link DownloadState} this version can use. */
export function isDownloadState(value: unknown): value is DownloadState {
  const v = value as DownloadState
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === 1 &&
    typeof v.key === 'string' &&
    typeof v.etag === 'string' &&
    Number.isSafeInteger(v.size) &&
    Number.isSafeInteger(v.rangeSize) &&
    Array.isArray(v.done) &&
    v.done.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    typeof v.updatedAt === 'string'
  )
}
