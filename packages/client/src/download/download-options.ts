/**
 * `createDownloader`'s and `download()`'s options, checked once with the option kit every Valet
 * package uses; errors name the option.
 */
import { OptionReader } from '@valet/protocol'
import type { BackoffOptions } from '../engine/retry-policy.js'
import type { KeyEndpointOptions } from '../keys/key-endpoint.js'
import { CONCURRENCY, normalizeEndpoint, normalizeKeyEndpoint, normalizeRetries, type HeadersOption } from '../normalize-options.js'
import type { DownloadStateStore } from './download-ports.js'
import type { DownloadProgress } from './download-progress.js'

export interface DownloaderOptions {
  /**
   * URL of the key endpoint (where `@valet/server` is mounted, with `canRead`). Node needs an
   * absolute URL; browsers may pass a path.
   */
  endpoint: string
  /**
   * Ranged GETs in flight at once per download. Memory is bounded by the chunks in flight, not
   * by range size: bytes go to staging as they arrive.
   * @default 4
   */
  concurrency?: number
  /** Headers sent on every key-endpoint call (never to storage): typically authorization. @default {} */
  headers?: HeadersOption
  /**
   * Continue unfinished downloads: `true` uses the platform's store (Node: a JSON file per
   * download in `stateDir`; browsers: IndexedDB), a `DownloadStateStore` uses yours,
   * `false` keeps nothing (a download then starts over after a kill or reload).
   * @default true
   */
  resume?: boolean | DownloadStateStore
  /** Node only: directory of the state files used by `resume: true`. @default ~/.valet/downloads */
  stateDir?: string
  /**
   * Size of the ranges an object is fetched in when Valet has no part manifest for it (objects
   * with one are fetched part by part, so each range checks against its part's MD5).
   * @default 8 MiB doubling up to 64 MiB so an object needs at most 16 ranges
   */
  rangeSize?: number
  /** Retries per range and per key-endpoint call after the first attempt; a range's count starts over when the download progresses. @default 5 */
  retries?: number
  /** Base of the exponential backoff between retries, ms (full jitter). @default 500 */
  retryDelay?: number
  /** Longest backoff between retries, ms; `Retry-After` wins over it. @default 20000 */
  maxRetryDelay?: number
  /** A GET that receives nothing for this long is aborted and retried, ms; `0` disables. @default 60000 */
  stallTimeout?: number
  /** Least time between two `onProgress` calls, ms (a final call always comes). @default 100 */
  progressInterval?: number
  /** A key-endpoint call with no answer after this long is abandoned and retried, ms; `0` disables. @default 30000 */
  requestTimeout?: number
  /** Key-endpoint calls failing with network errors or 5xx keep retrying for at least this long, ms. @default 30000 */
  retryWindow?: number
  /**
   * Node only: flush the staged file to disk (`fsync`, and in the background as ranges land)
   * before it is renamed onto the destination, so that even a power cut leaves the destination
   * whole or absent. Off, a killed process still never leaves unverified bytes at the
   * destination (the kernel holds what was written), but a power cut just after the rename may;
   * that is what curl, wget and Azure's SDK do. Costs about 10–20% of throughput where the disk
   * is the bottleneck (docs/benchmarks.md).
   * @default false
   */
  fsync?: boolean
  /**
   * Browsers only: the largest object `download()` keeps in memory as a `Blob` when given no
   * destination and the origin-private file system is not available.
   * @default 268435456 (256 MiB)
   */
  maxBlobSize?: number
}

export interface DownloadOptions {
  /** Aborting it aborts the download, exactly like `abort()`. @default undefined */
  signal?: AbortSignal
  /** Called at most every `progressInterval` ms, on every phase change, and once more at the end. Errors it throws are ignored. @default undefined */
  onProgress?: (progress: DownloadProgress) => void
  /** GETs in flight for this download. @default the downloader's `concurrency` */
  concurrency?: number
}

/** What the platform binding decides. */
export interface DownloadDefaults {
  stateStore(stateDir: string | undefined): DownloadStateStore | undefined
  absoluteEndpoint: boolean
}

export interface NormalizedDownloaderOptions {
  endpoint: string
  concurrency: number
  stateStore: DownloadStateStore | undefined
  rangeSize: number | undefined
  progressInterval: number
  maxBlobSize: number
  fsync: boolean
  ranges: { retries: number; backoff: BackoffOptions; stallTimeout: number }
  keyEndpoint: Omit<KeyEndpointOptions, 'transport' | 'clock' | 'answered'>
}

export interface DownloadSettings {
  signal: AbortSignal | undefined
  onProgress: ((progress: DownloadProgress) => void) | undefined
  concurrency: number
}

const OWNER = 'createDownloader'
const KNOWN = [
  'endpoint', 'concurrency', 'headers', 'resume', 'stateDir', 'rangeSize', 'retries', 'retryDelay',
  'maxRetryDelay', 'stallTimeout', 'progressInterval', 'requestTimeout', 'retryWindow', 'maxBlobSize', 'fsync',
] as const

function isStateStore(value: unknown): value is DownloadStateStore {
  const v = value as DownloadStateStore
  return typeof v === 'object' && v !== null && [v.get, v.set, v.remove].every((f) => typeof f === 'function')
}

/** Validates and fills in the downloader's options; throws `ValetError('invalid_option')` naming the option. */
export function normalizeDownloaderOptions(options: DownloaderOptions, platform: DownloadDefaults): NormalizedDownloaderOptions {
  const read = new OptionReader(OWNER, options, KNOWN)
  const endpoint = normalizeEndpoint(read, platform.absoluteEndpoint)
  const stateDir = read.string('stateDir')
  const resume = read.raw('resume')
  let stateStore: DownloadStateStore | undefined
  if (resume === undefined || resume === true) stateStore = platform.stateStore(stateDir)
  else if (isStateStore(resume)) stateStore = resume
  else if (resume !== false) read.fail('resume', 'must be true, false or a DownloadStateStore { get, set, remove }')
  const { retries, backoff } = normalizeRetries(read)
  return {
    endpoint,
    concurrency: read.integer('concurrency', { ...CONCURRENCY, fallback: 4 }),
    stateStore,
    rangeSize: read.integer('rangeSize', { min: 64 * 1024, max: 5 * 1024 ** 3, hint: 'bytes, 64 KiB to 5 GiB' }),
    progressInterval: read.integer('progressInterval', { min: 0, max: 60_000, fallback: 100 }),
    maxBlobSize: read.integer('maxBlobSize', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 256 * 1024 * 1024 }),
    fsync: read.boolean('fsync', false),
    ranges: { retries, backoff, stallTimeout: read.integer('stallTimeout', { min: 0, max: 86_400_000, fallback: 60_000 }) },
    keyEndpoint: normalizeKeyEndpoint(read, endpoint, retries, backoff),
  }
}

/** Validates `download()`'s options. */
export function normalizeDownloadOptions(options: DownloadOptions | undefined, downloader: { concurrency: number }): DownloadSettings {
  const read = new OptionReader('download()', options ?? {}, ['signal', 'onProgress', 'concurrency'])
  const signal = read.raw('signal') as AbortSignal | undefined
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    read.fail('signal', 'must be an AbortSignal')
  }
  return {
    signal,
    onProgress: read.func<(progress: DownloadProgress) => void>('onProgress'),
    concurrency: read.integer('concurrency', { ...CONCURRENCY, fallback: downloader.concurrency }),
  }
}
