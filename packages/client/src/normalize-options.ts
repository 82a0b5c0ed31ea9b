/**
 * The uploader's options: one flat, typed object for users, normalized once (with the option kit
 * every Valet package uses) into the shapes the engine and the key endpoint take.
 */
import { OptionReader, checkStringRecord, invalidOption, type ValetError } from '@valet/protocol'
import type { BackoffOptions } from './engine/retry-policy.js'
import type { UploadProgress } from './engine/progress-tracker.js'
import type { KeyEndpointOptions } from './keys/key-endpoint.js'
import type { ResumeStore } from './ports.js'

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
   * Part PUTs in flight at once per upload, unless `upload()` sets its own. Memory is about
   * `concurrency × part size`.
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

/** The uploader's options as the engine uses them: checked, defaulted, grouped by user. */
export interface NormalizedOptions {
  /** Without a trailing slash; also part of every resume fingerprint. */
  endpoint: string
  /** `upload()`'s default. */
  concurrency: number
  resumeStore: ResumeStore | undefined
  partSize: number | undefined
  progressInterval: number
  /** How part PUTs retry. */
  parts: { retries: number; backoff: BackoffOptions; stallTimeout: number }
  /** The key endpoint's calls: everything but the platform's transport and clock. */
  keyEndpoint: Omit<KeyEndpointOptions, 'transport' | 'clock' | 'answered'>
}

/** What the platform binding decides. */
export interface PlatformDefaults {
  /** The store behind `resume: true`; `undefined` when the platform has none. */
  resumeStore(stateDir: string | undefined): ResumeStore | undefined
  /** Node has no page URL to resolve a relative endpoint against. */
  absoluteEndpoint: boolean
}

const UPLOADER = 'createUploader'
const UPLOAD = 'upload()'

/** An `invalid_option` error about one of `upload()`'s options. */
export function invalidUploadOption(option: string, problem: string): ValetError {
  return invalidOption(UPLOAD, option, problem)
}

export const CONCURRENCY = { min: 1, max: 64 } as const

/** `headers` as a function called before every key-endpoint call. */
function normalizeHeaders(read: OptionReader): () => Promise<Record<string, string>> {
  const value = read.raw('headers')
  if (typeof value === 'function') {
    const fn = value as () => unknown
    // Checked on every call: the function's answer can change (token refresh).
    return async () => checkStringRecord(UPLOADER, 'headers', await fn())
  }
  const fixed = read.stringRecord('headers') ?? {}
  return async () => ({ ...fixed })
}

function isResumeStore(value: unknown): value is ResumeStore {
  const v = value as ResumeStore
  return typeof v === 'object' && v !== null && [v.get, v.set, v.remove].every((f) => typeof f === 'function')
}

/** `endpoint` without a trailing slash, absolute where the platform needs it; shared with `createDownloader`. */
export function normalizeEndpoint(read: OptionReader, absolute: boolean): string {
  const endpoint = read.string('endpoint', { required: true, hint: 'the URL of the key endpoint' }).trim().replace(/\/+$/, '')
  if (!absolute) return endpoint
  let url: URL | undefined
  try {
    url = new URL(endpoint)
  } catch {
    read.fail('endpoint', `must be an absolute http(s) URL, got "${endpoint}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') read.fail('endpoint', `must use http or https, got "${url.protocol}"`)
  return endpoint
}

function normalizeResume(read: OptionReader, platform: PlatformDefaults): ResumeStore | undefined {
  const stateDir = read.string('stateDir')
  const resume = read.raw('resume')
  if (resume === undefined || resume === true) return platform.resumeStore(stateDir)
  if (isResumeStore(resume)) return resume
  if (resume !== false) read.fail('resume', 'must be true, false or a ResumeStore { get, set, remove }')
  return undefined
}

const KNOWN = [
  'endpoint', 'concurrency', 'checksum', 'headers', 'resume', 'stateDir', 'partSize',
  'retries', 'retryDelay', 'maxRetryDelay', 'stallTimeout', 'progressInterval', 'requestTimeout', 'retryWindow',
] as const

/** `retries`, `retryDelay` and `maxRetryDelay`: the retry policy uploads and downloads share. */
export function normalizeRetries(read: OptionReader): { retries: number; backoff: BackoffOptions } {
  const retries = read.integer('retries', { min: 0, max: 100, fallback: 5 })
  const maxRetryDelay = read.integer('maxRetryDelay', { min: 0, max: 3_600_000, fallback: 20_000 })
  return { retries, backoff: { base: read.integer('retryDelay', { min: 0, max: maxRetryDelay, fallback: Math.min(500, maxRetryDelay) }), cap: maxRetryDelay } }
}

/** How key-endpoint calls go (`headers`, `requestTimeout`, `retryWindow`), for uploaders and downloaders alike. */
export function normalizeKeyEndpoint(read: OptionReader, endpoint: string, retries: number, backoff: BackoffOptions): NormalizedOptions['keyEndpoint'] {
  return {
    endpoint,
    headers: normalizeHeaders(read),
    retries,
    backoff,
    requestTimeout: read.integer('requestTimeout', { min: 0, max: 86_400_000, fallback: 30_000 }),
    retryWindow: read.integer('retryWindow', { min: 0, max: 86_400_000, fallback: 30_000 }),
  }
}

/** Validates and fills in the uploader's options, once; throws `ValetError('invalid_option')` naming the option. */
export function normalizeOptions(options: UploaderOptions, platform: PlatformDefaults): NormalizedOptions {
  const read = new OptionReader(UPLOADER, options, KNOWN)
  const checksum = read.raw('checksum')
  if (checksum !== undefined && checksum !== 'md5') {
    read.fail('checksum', `must be 'md5': every valet key is signed for one part's MD5, got ${String(checksum)}`)
  }
  const endpoint = normalizeEndpoint(read, platform.absoluteEndpoint)
  const { retries, backoff } = normalizeRetries(read)
  return {
    endpoint,
    concurrency: read.integer('concurrency', { ...CONCURRENCY, fallback: 4 }),
    resumeStore: normalizeResume(read, platform),
    partSize: read.integer('partSize', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    progressInterval: read.integer('progressInterval', { min: 0, max: 60_000, fallback: 100 }),
    parts: { retries, backoff, stallTimeout: read.integer('stallTimeout', { min: 0, max: 86_400_000, fallback: 60_000 }) },
    keyEndpoint: normalizeKeyEndpoint(read, endpoint, retries, backoff),
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
  /** Part PUTs in flight at once for this upload. @default the uploader's `concurrency` */
  concurrency?: number
  /** Aborting it aborts the upload, exactly like `upload.abort()`. @default undefined */
  signal?: AbortSignal
  /**
   * Called at most every `progressInterval` ms, on every phase change, and once more at the end.
   * Errors it throws are ignored. @default undefined
   */
  onProgress?: (progress: UploadProgress) => void
}

/** `upload()`'s options, checked, with `concurrency` resolved. */
export type UploadSettings = Omit<UploadOptions, 'concurrency'> & { concurrency: number }

const KNOWN_UPLOAD = ['name', 'type', 'metadata', 'lastModified', 'size', 'concurrency', 'signal', 'onProgress'] as const

/** Validates `upload()`'s options; throws `ValetError('invalid_option')` naming the option. */
export function normalizeUploadOptions(options: UploadOptions | undefined, uploader: { concurrency: number }): UploadSettings {
  const read = new OptionReader(UPLOAD, options ?? {}, KNOWN_UPLOAD)
  read.string('name')
  read.string('type', { allowEmpty: true })
  read.stringRecord('metadata')
  read.integer('lastModified', { min: 0, max: Number.MAX_SAFE_INTEGER })
  read.integer('size', { min: 1, max: Number.MAX_SAFE_INTEGER })
  const signal = read.raw('signal') as AbortSignal | undefined
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    read.fail('signal', 'must be an AbortSignal')
  }
  read.func('onProgress')
  return { ...options, concurrency: read.integer('concurrency', { ...CONCURRENCY, fallback: uploader.concurrency }) }
}
