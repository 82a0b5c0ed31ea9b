/**
 * The uploader's options: one flat, typed object, normalized once by pure functions that name
 * the offending option in a `ValetError('invalid_option')`.
 */
import { ValetError } from '@valet/protocol'
import type { ResumeStore } from './ports.js'
import type { UploadProgress } from './engine/progress-tracker.js'

/** Headers for key-endpoint calls, or a function returning them (called before every call, so tokens stay fresh). */
export type HeadersOption = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>)

export interface UploaderOptions {
  /**
   * URL of the key endpoint (where `@valet/server` is mounted). Node needs an absolute URL;
   * browsers may pass a path.
   * @example 'http://127.0.0.1:3000/api/valet'
   */
  endpoint: string
  /**
   * Part PUTs in flight at once per upload. Memory is about `concurrency × part size`.
   * @default 4
   */
  concurrency?: number
  /**
   * Part checksum. The protocol signs each key for one MD5, so only `'md5'` exists today.
   * @default 'md5'
   */
  checksum?: 'md5'
  /**
   * Headers sent on every key-endpoint call (never on storage PUTs): typically authorization.
   * @default {}
   */
  headers?: HeadersOption
  /**
   * Continue unfinished uploads of the same file: `true` uses the platform's store (Node: a JSON
   * file per upload in `stateDir`), a {@link ResumeStore} uses yours, `false` keeps nothing.
   * @default true
   */
  resume?: boolean | ResumeStore
  /**
   * Node only: directory of the resume store used by `resume: true`.
   * @default path.join(os.homedir(), '.valet', 'uploads')
   */
  stateDir?: string
  /**
   * Preferred part size in bytes, sent as a hint. The server clamps it (S3: at least 5 MiB) and
   * the client always uses the server's answer.
   * @default undefined (the server's choice)
   */
  partSize?: number
  /**
   * Retries per part, and per key-endpoint call, after the first attempt. A part's count starts
   * over whenever the upload makes progress.
   * @default 5
   */
  retries?: number
  /**
   * Base of the exponential backoff between retries, ms (full jitter).
   * @default 500
   */
  retryDelay?: number
  /**
   * Longest backoff between retries, ms. `Retry-After` from the server wins over it.
   * @default 20000
   */
  maxRetryDelay?: number
  /**
   * A part PUT that sends nothing and gets no answer for this long is aborted and retried, ms.
   * Independent of key lifetimes on purpose. `0` disables.
   * @default 60000
   */
  stallTimeout?: number
  /**
   * Least time between two `onProgress` calls, ms (a final call always comes).
   * @default 100
   */
  progressInterval?: number
  /**
   * A key-endpoint call with no answer after this long is abandoned and retried, ms. `0` disables.
   * @default 30000
   */
  requestTimeout?: number
  /**
   * Key-endpoint calls failing with network errors or 5xx keep retrying for at least this long,
   * ms, even past `retries`: a key server restarting or redeploying must not fail uploads.
   * @default 30000
   */
  retryWindow?: number
}

export interface NormalizedOptions {
  /** Without a trailing slash. */
  endpoint: string
  concurrency: number
  headers: () => Promise<Record<string, string>>
  resumeStore: ResumeStore | undefined
  partSize: number | undefined
  retries: number
  retryDelay: number
  maxRetryDelay: number
  stallTimeout: number
  progressInterval: number
  requestTimeout: number
  retryWindow: number
}

/** What the platform binding decides. */
export interface PlatformDefaults {
  /** The store behind `resume: true`; `undefined` when the platform has none. */
  resumeStore(stateDir: string | undefined): ResumeStore | undefined
  /** Node has no page URL to resolve a relative endpoint against. */
  absoluteEndpoint: boolean
}

export function invalidOption(option: string, problem: string): ValetError {
  return new ValetError('invalid_option', `${option} ${problem}`, { context: { option } })
}

function integer(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(option, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function stringRecord(value: unknown, option: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(option, 'must be an object of strings')
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidOption(`${option}.${k}`, 'must be a string')
  }
  return { ...(value as Record<string, string>) }
}

function normalizeHeaders(value: unknown): () => Promise<Record<string, string>> {
  if (value === undefined) return async () => ({})
  if (typeof value === 'function') {
    const fn = value as () => unknown
    // Checked on every call: the function's answer can change (token refresh).
    return async () => stringRecord(await fn(), 'headers')
  }
  const fixed = stringRecord(value, 'headers')
  return async () => ({ ...fixed })
}

function isResumeStore(value: unknown): value is ResumeStore {
  const v = value as ResumeStore
  return typeof v === 'object' && v !== null && [v.get, v.set, v.remove].every((f) => typeof f === 'function')
}

function normalizeEndpoint(value: unknown, absolute: boolean): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption('endpoint', 'must be a non-empty URL string')
  const endpoint = value.trim().replace(/\/+$/, '')
  if (absolute) {
    let url: URL
    try {
      url = new URL(endpoint)
    } catch {
      throw invalidOption('endpoint', `must be an absolute http(s) URL, got "${value}"`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption('endpoint', `must use http or https, got "${url.protocol}"`)
  }
  return endpoint
}

const KNOWN = new Set([
  'endpoint', 'concurrency', 'checksum', 'headers', 'resume', 'stateDir', 'partSize',
  'retries', 'retryDelay', 'maxRetryDelay', 'stallTimeout', 'progressInterval', 'requestTimeout', 'retryWindow',
])

/** Validates and fills in the uploader's options; throws `ValetError('invalid_option')` naming the option. */
export function normalizeOptions(options: UploaderOptions, platform: PlatformDefaults): NormalizedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object')
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw invalidOption(key, 'is not an option of createUploader')
  const o = options as unknown as Record<string, unknown>
  if (o.checksum !== undefined && o.checksum !== 'md5') {
    throw invalidOption('checksum', `must be 'md5': every valet key is signed for one part's MD5, got ${String(o.checksum)}`)
  }
  if (o.stateDir !== undefined && (typeof o.stateDir !== 'string' || o.stateDir === '')) throw invalidOption('stateDir', 'must be a non-empty path')
  let resumeStore: ResumeStore | undefined
  if (o.resume === undefined || o.resume === true) resumeStore = platform.resumeStore(o.stateDir as string | undefined)
  else if (isResumeStore(o.resume)) resumeStore = o.resume
  else if (o.resume !== false) throw invalidOption('resume', 'must be true, false or a ResumeStore { get, set, remove }')
  const maxRetryDelay = integer(o.maxRetryDelay, 'maxRetryDelay', 0, 3_600_000, 20_000)
  return {
    endpoint: normalizeEndpoint(o.endpoint, platform.absoluteEndpoint),
    concurrency: integer(o.concurrency, 'concurrency', 1, 64, 4),
    headers: normalizeHeaders(o.headers),
    resumeStore,
    partSize: o.partSize === undefined ? undefined : integer(o.partSize, 'partSize', 1, Number.MAX_SAFE_INTEGER, 0),
    retries: integer(o.retries, 'retries', 0, 100, 5),
    retryDelay: integer(o.retryDelay, 'retryDelay', 0, maxRetryDelay, Math.min(500, maxRetryDelay)),
    maxRetryDelay,
    stallTimeout: integer(o.stallTimeout, 'stallTimeout', 0, 86_400_000, 60_000),
    progressInterval: integer(o.progressInterval, 'progressInterval', 0, 60_000, 100),
    requestTimeout: integer(o.requestTimeout, 'requestTimeout', 0, 86_400_000, 30_000),
    retryWindow: integer(o.retryWindow, 'retryWindow', 0, 86_400_000, 30_000),
  }
}

export interface UploadOptions {
  /** Object name sent to the server. @default the file's basename (paths), `File.name`; required otherwise */
  name?: string
  /** MIME type. @default the Blob's type, else a guess from the name's extension, else '' */
  type?: string
  /** Small string → string map stored on the object (`x-amz-meta-*`, Azure metadata). @default undefined */
  metadata?: Record<string, string>
  /** ms since the epoch, sent to the server and part of the resume fingerprint. @default the file's mtime / `File.lastModified` */
  lastModified?: number
  /** Byte length: required for a stream, checked against the source otherwise. @default the source's size */
  size?: number
  /** Aborting it aborts the upload, exactly like `upload.abort()`. @default undefined */
  signal?: AbortSignal
  /**
   * Called at most every `progressInterval` ms, on every phase change, and once more at the end.
   * Errors it throws are ignored. @default undefined
   */
  onProgress?: (progress: UploadProgress) => void
}

const KNOWN_UPLOAD = new Set(['name', 'type', 'metadata', 'lastModified', 'size', 'signal', 'onProgress'])

/** Validates `upload()`'s options; throws `ValetError('invalid_option')` naming the option. */
export function normalizeUploadOptions(options: UploadOptions | undefined): UploadOptions {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object')
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) if (!KNOWN_UPLOAD.has(key)) throw invalidOption(key, 'is not an option of upload()')
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw invalidOption('name', 'must be a non-empty string')
  if (o.type !== undefined && typeof o.type !== 'string') throw invalidOption('type', 'must be a string')
  if (o.metadata !== undefined) stringRecord(o.metadata, 'metadata')
  if (o.lastModified !== undefined) integer(o.lastModified, 'lastModified', 0, Number.MAX_SAFE_INTEGER, 0)
  if (o.size !== undefined) integer(o.size, 'size', 1, Number.MAX_SAFE_INTEGER, 0)
  const signal = o.signal as AbortSignal | undefined
  if (signal !== undefined && (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    throw invalidOption('signal', 'must be an AbortSignal')
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidOption('onProgress', 'must be a function')
  return { ...options }
}
