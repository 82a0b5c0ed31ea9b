/**
 * The ports of the upload engine. Everything that differs between Node and browsers sits behind
 * one of these small interfaces; `node/node-platform.ts` and `browser/browser-platform.ts` bind
 * them, the engine never imports a platform module.
 *
 * `B` is the platform's part body (Node: a file range or bytes; browsers: a reference to a range
 * of a `File`). The engine only carries it from source to hasher and transport, so it is a type
 * parameter, not a union the engine would have to look into.
 */

/** A request to the key endpoint (`body` a JSON string) or to storage (`body` a part). */
export interface HttpRequest<B = never> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  url: string
  headers: Record<string, string>
  /** A JSON string for the key endpoint, a part for storage. */
  body?: string | B
  signal: AbortSignal
  /** Bytes of the body sent so far, where the platform reports it. */
  onUploadProgress?: (loaded: number) => void
}

export interface HttpResponse {
  status: number
  /** Lower-case names. */
  headers: Record<string, string>
  /** The body as text ('' when empty). */
  body: string
}

/**
 * Sends one HTTP request. Resolves with any status (the caller classifies it); rejects with
 * `signal.reason` when aborted, and with `ValetError('network_error')` when no response came.
 */
export interface Transport<B = never> {
  request(request: HttpRequest<B>): Promise<HttpResponse>
}

/** Computes the MD5 of a part: node:crypto in Node, spark-md5 in Web Workers in browsers. */
export interface Hasher<B> {
  /** Base64 MD5 (the `Content-MD5` value) of a part, or of small bytes (a fingerprint's text). */
  md5(body: B | Uint8Array, signal: AbortSignal): Promise<string>
}

/** What a source tells the fingerprint about itself; `samples` are hashed, the rest is text. */
export interface SourceIdentity<B> {
  /** Stable facts: absolute path or name, size, lastModified... */
  key: string
  /** Small byte ranges whose MD5 joins the fingerprint (cheap content check for in-memory data). */
  samples: B[]
}

/**
 * A file to upload, opened by the platform binding.
 *
 * `random` sources read any range at any time (file ranges, `Blob.slice`, typed arrays).
 * `sequential` sources (streams) return consecutive ranges only, once; the engine keeps the
 * bytes of unfinished parts itself.
 */
export interface FileSource<B> {
  readonly name: string
  readonly size: number
  /** MIME type, or '' when unknown. */
  readonly type: string
  readonly lastModified?: number
  readonly access: 'random' | 'sequential'
  /**
   * Bytes `[start, end)`, exactly that many (a source that can't deliver them throws
   * `invalid_source`). Sequential sources require `start` to be where the last read ended.
   */
  read(start: number, end: number, signal: AbortSignal): Promise<B>
  /** Facts for the resume fingerprint, or `undefined` when the source can't be read again later. */
  identity(): Promise<SourceIdentity<B> | undefined>
  close(): Promise<void>
}

/**
 * What the engine remembers about an unfinished upload so another process can continue it.
 *
 * Before create, the engine saves a *pending create* (`pending: true`): only `requestId`,
 * `size`, `createdAt` and `expiresAt` mean anything, `uploadId`, `key` and `token` are `''`,
 * `partSize` and `partCount` 0. A process that finds one sends create again with the same
 * `requestId`, so the server hands back the upload the lost answer named instead of starting
 * another. Once create answers, the full state replaces it.
 */
export interface ResumeState {
  version: 1
  /** Set on a pending create (see above); absent on the state of a created upload. */
  pending?: true
  /** The create's idempotency id (a pending create's only content). */
  requestId?: string
  uploadId: string
  /** Object key in storage. */
  key: string
  /** Upload token: the server's signed claim, sent back on every call. */
  token: string
  partSize: number
  partCount: number
  size: number
  /** ISO time the upload was created. */
  createdAt: string
  /**
   * ISO time the token expires: older state is dropped without asking the server. For a
   * pending create, when it stops being worth sending again.
   */
  expiresAt: string
  /**
   * Set just before `complete` is sent: every part with its etag. A run that finds it sends the
   * same complete again (the server answers a repeated complete with the first answer) instead
   * of listing parts, which a spent token can no longer do.
   */
  completing?: { partNumber: number; etag: string }[]
  /**
   * `'single'`: a single-PUT upload (one PUT of the whole object as part 1). Listing answers part
   * 1 once the object landed; storage refuses a second write (412), which then means "landed".
   * Absent: multipart.
   */
  mode?: 'single'
}

/**
 * Where resume state lives: a JSON file per upload in Node, IndexedDB or localStorage in
 * browsers, or your own (a database row, say). Keys are fingerprints: hex strings. Store and
 * return each state as given, pending creates included (`pending: true`, empty `uploadId`).
 *
 * @example
 * ```ts
 * const memory = new Map<string, ResumeState>()
 * const store: ResumeStore = {
 *   async get(fp) { return memory.get(fp) },
 *   async set(fp, state) { memory.set(fp, state) },
 *   async remove(fp) { memory.delete(fp) },
 * }
 * createUploader({ endpoint, resume: store })
 * ```
 */
export interface ResumeStore {
  get(fingerprint: string): Promise<ResumeState | undefined>
  set(fingerprint: string, state: ResumeState): Promise<void>
  remove(fingerprint: string): Promise<void>
}

/** Milliseconds since the epoch; a port so tests can move time. */
export interface Clock {
  now(): number
}
