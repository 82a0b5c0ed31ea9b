/**
 * Binds the download engine to a platform's ports. `index.node.ts` and `index.browser.ts` each
 * call {@link bindDownloader} once and export the result as `createDownloader`.
 */
import { ValetError } from '@valet/protocol'
import { controlled, settling } from '../engine/controlled.js'
import { UploadControl } from '../engine/upload-control.js'
import type { Clock, Transport } from '../ports.js'
import type * as DownloadEngineModule from './download-engine.js'
import {
  normalizeDownloadOptions,
  normalizeDownloaderOptions,
  type DownloadDefaults,
  type DownloadOptions,
  type DownloaderOptions,
  type NormalizedDownloaderOptions,
} from './download-options.js'
import type { Md5Stream, PreparedDestination, RangeFetcher } from './download-ports.js'

/**
 * How a download's bytes were proven:
 * - `'parts'`: every part's bytes against the MD5 storage verified when Valet uploaded it (on S3
 *   also the multipart ETag recomputed from those MD5s);
 * - `'md5'`: the whole object against the MD5 storage recorded;
 * - `'size-etag'`: nothing recorded to check bytes against (an object Valet did not upload):
 *   every range came from the same object version (ETag) and the size adds up, no more.
 */
export type DownloadVerification = 'parts' | 'md5' | 'size-etag'

export interface DownloadResult {
  key: string
  size: number
  /** The object version every byte came from. */
  etag: string
  /** `Content-Type` as stored. */
  type: string
  /** Node: the destination path, written only once every byte was verified. */
  path?: string
  /** Browsers without a file handle or stream: the object. */
  blob?: Blob
  verified: DownloadVerification
}

export type DownloadStatus = 'running' | 'paused' | 'complete' | 'failed' | 'aborted'

/**
 * One download in progress.
 *
 * @example
 * ```ts
 * const dl = downloader.download('u/alice/2026/report.pdf', './report.pdf', { onProgress: (p) => console.log(p.bytesReceived) })
 * dl.pause()   // GETs in flight stop; what is verified stays
 * dl.resume()
 * const { path, verified } = await dl.done
 * ```
 */
export interface Download {
  /**
   * Resolves once the destination holds the whole, verified object. Rejects with a `ValetError`:
   * `aborted`, `forbidden` / `object_not_found` from the server, `retries_exhausted` (the
   * staging is kept: run again to fetch only what is missing)... Stays pending while paused.
   */
  readonly done: Promise<DownloadResult>
  readonly status: DownloadStatus
  /** Stops starting ranges and aborts the GETs in flight; staging and state are kept. */
  pause(): void
  resume(): void
  /** Stops everything and removes the staging and the state. */
  abort(): void
}

/**
 * `download()`'s arguments after the key: the destination may be left out only where the
 * platform's destinations include `undefined` (browsers: a Blob).
 */
export type DownloadArgs<TDestination> = undefined extends TDestination
  ? [destination?: TDestination, options?: DownloadOptions]
  : [destination: TDestination, options?: DownloadOptions]

/** @typeParam TDestination - Node: a file path; browsers: a `FileSystemFileHandle`, a `WritableStream`, or nothing (a Blob). */
export interface Downloader<TDestination> {
  /**
   * Starts downloading the object `key` to `destination`. Throws `ValetError('invalid_option')`
   * at once for mistakes visible without I/O; everything else rejects `done`.
   */
  download(key: string, ...args: DownloadArgs<TDestination>): Download
}

/** What `download-engine.ts` exports; a type import only, so browsers can load it as a chunk. */
export type DownloadEngine = Pick<typeof DownloadEngineModule, 'KeyEndpoint' | 'runDownload'>

/** A platform's download ports, bound once by its entry. */
export interface DownloadPlatform<TDestination> {
  /** Key-endpoint calls (JSON). */
  transport: Transport
  fetcher: RangeFetcher
  md5(): Promise<Md5Stream>
  clock?: Clock
  defaults: DownloadDefaults
  /** Checks the destination synchronously (throws `invalid_option`) and returns how to open it. */
  prepareDestination(destination: TDestination | undefined, options: NormalizedDownloaderOptions): PreparedDestination
  engine(): Promise<DownloadEngine>
}

const systemClock: Clock = { now: () => Date.now() }

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new ValetError('invalid_option', `download(): \`key\` must be the object key as the upload answered it (1–1024 characters), got ${typeof key === 'string' ? `"${key.slice(0, 40)}"` : typeof key}`, {
      context: { option: 'key', owner: 'download()' },
    })
  }
  return key
}

export function bindDownloader<TDestination>(platform: DownloadPlatform<TDestination>): (options: DownloaderOptions) => Downloader<TDestination> {
  return (downloaderOptions) => {
    const options = normalizeDownloaderOptions(downloaderOptions, platform.defaults)
    const clock = platform.clock ?? systemClock
    let loaded: Promise<{ engine: DownloadEngine; api: InstanceType<DownloadEngine['KeyEndpoint']> }> | undefined
    const engine = () =>
      (loaded ??= platform.engine().then(
        (engine) => ({ engine, api: new engine.KeyEndpoint({ ...options.keyEndpoint, transport: platform.transport, clock }) }),
        (cause: unknown) => {
          loaded = undefined
          throw new ValetError('network_error', `the download engine's script could not be loaded: ${(cause as Error)?.message ?? String(cause)}`, { cause })
        },
      ))
    return {
      download(key, ...args) {
        const [destination, downloadOptions] = args
        checkKey(key)
        const settings = normalizeDownloadOptions(downloadOptions, options)
        const prepared = platform.prepareDestination(destination, options)
        const control = new UploadControl()
        return controlled(control, settings.signal, () =>
          settling(
            control,
            engine().then(({ engine, api }) =>
              engine.runDownload({ options, api, fetcher: platform.fetcher, md5: platform.md5, clock }, control, key, prepared, settings),
            ),
          ),
        )
      },
    }
  }
}
