/**
 * Binds the engine to a platform's ports. `index.node.ts` and `index.browser.ts` each call
 * {@link bindUploader} once and export the result as `createUploader`.
 */
import { ValetError } from '@valet/protocol'
import { throwIfAborted } from './engine/abort.js'
import {
  normalizeOptions,
  normalizeUploadOptions,
  type PlatformDefaults,
  type UploadOptions,
  type UploadSettings,
  type UploaderOptions,
} from './normalize-options.js'
import type { Clock, FileSource, Hasher, Transport } from './ports.js'
import type { EngineDeps, UploadResult } from './engine/run-upload.js'
import type * as EngineModule from './engine/engine.js'
import { GroupControl, UploadControl, type UploadStatus } from './engine/upload-control.js'
import { controlled, settling } from './engine/controlled.js'
import type { ManyItem, ManyOutcome } from './engine/upload-many.js'
import type { KeyEndpoint } from './keys/key-endpoint.js'
import { normalizeManyOptions, type UploadManyOptions } from './many-options.js'

/**
 * One upload in progress.
 *
 * @example
 * ```ts
 * const upload = uploader.upload('./video.mp4', { onProgress: (p) => console.log(p.bytesSent) })
 * upload.pause()   // in-flight parts stop, nothing is lost
 * upload.resume()
 * const { key, location } = await upload.done
 * ```
 */
export interface Upload {
  /**
   * Resolves once storage holds the whole, verified object. Rejects with a `ValetError`:
   * `aborted` after `abort()`, `retries_exhausted`, `storage_rejected`, a server code...
   * Stays pending while paused.
   */
  readonly done: Promise<UploadResult>
  readonly status: UploadStatus
  /** Stops starting parts and aborts the ones in flight; state is kept. */
  pause(): void
  /** Continues a paused upload. */
  resume(): void
  /** Stops everything, aborts the upload in storage and forgets its resume state. */
  abort(): void
}

/**
 * Many uploads in progress (`uploader.uploadMany`).
 *
 * @example
 * ```ts
 * const batch = uploader.uploadMany(['a.jpg', { source: 'b.jpg', name: 'cover.jpg' }], {
 *   onFileDone: (o) => console.log(o.name, o.ok ? o.result.key : o.error.code),
 * })
 * const outcomes = await batch.done // one per file, in item order; never rejects for one file
 * ```
 */
export interface UploadBatch {
  /**
   * Resolves once every file reached has ended, with one outcome per file in item order: a
   * failed file is an outcome (`ok: false` and its `ValetError`), never a rejection. After
   * `abort()`, the files in progress end `aborted` and no more start. Rejects only when the
   * items iterable itself throws (`invalid_source`, after the files already started ended).
   */
  readonly done: Promise<ManyOutcome[]>
  readonly status: 'running' | 'paused' | 'aborted'
  /** Stops starting files and parts, aborts the PUTs in flight; everything is kept. */
  pause(): void
  resume(): void
  /** Stops everything: files in progress are aborted in storage and forgotten. */
  abort(): void
}

/** @typeParam TSource - what the platform uploads (Node: path, bytes, Blob, Readable). */
export interface Uploader<TSource> {
  /**
   * Starts uploading `source`. Throws `ValetError('invalid_option' | 'invalid_source')` at once
   * for mistakes visible without I/O; everything else rejects `done`.
   */
  upload(source: TSource, options?: UploadOptions): Upload
  /**
   * Uploads many files: each a full upload (verified, resumable per file), with creates and
   * completes sent in batch calls, so a thousand small files cost tens of key-endpoint calls,
   * and files that fit one part go to storage in one PUT. Items are read lazily (an
   * `AsyncIterable` may produce them as it goes); a file's bytes are read only while it is
   * hashed or sent. Throws `ValetError('invalid_option')` at once for a bad option.
   */
  uploadMany(items: Iterable<TSource | ManyItem<TSource>> | AsyncIterable<TSource | ManyItem<TSource>>, options?: UploadManyOptions): UploadBatch
}

/**
 * A platform's ports, bound once by its entry.
 * @typeParam TSource - what users upload; @typeParam B - the part body its sources, hasher and
 * transport share (the engine only carries it).
 */
export interface Platform<TSource, B> {
  transport: Transport<B>
  hasher: Hasher<B>
  clock?: Clock
  defaults: PlatformDefaults
  /** Checks the source synchronously (throws) and returns how to open it. */
  prepareSource(source: TSource, options: UploadSettings): (signal: AbortSignal) => Promise<FileSource<B>>
  /**
   * The upload engine (`engine.ts`). Node links it in; browsers load it as a chunk on the first
   * `upload()`, so a page that imports the client but has not uploaded yet carries only option
   * checks, the ports and the HTTP client.
   */
  engine(): Promise<Engine>
}

/** What `engine.ts` exports; a type import only, so that module stays out of this one's chunk. */
export type Engine = Pick<typeof EngineModule, 'KeyEndpoint' | 'runUpload' | 'uploadMany'>

function engineLoadFailed(cause: unknown): ValetError {
  return new ValetError('network_error', `the upload engine's script could not be loaded: ${(cause as Error)?.message ?? String(cause)}`, { cause })
}

const systemClock: Clock = { now: () => Date.now() }

export function bindUploader<TSource, B>(platform: Platform<TSource, B>): (options: UploaderOptions) => Uploader<TSource> {
  return (uploaderOptions) => {
    const options = normalizeOptions(uploaderOptions, platform.defaults)
    const clock = platform.clock ?? systemClock
    let loaded: Promise<{ runUpload: Engine['runUpload']; uploadMany: Engine['uploadMany']; api: KeyEndpoint; deps: EngineDeps<B> }> | undefined
    const engine = () =>
      (loaded ??= platform.engine().then(
        ({ KeyEndpoint, runUpload, uploadMany }) => {
          const api = new KeyEndpoint({ ...options.keyEndpoint, transport: platform.transport, clock })
          return { runUpload, uploadMany, api, deps: { options, api, transport: platform.transport, hasher: platform.hasher, clock } }
        },
        (cause: unknown) => {
          loaded = undefined // a later upload tries again (the network may be back)
          throw engineLoadFailed(cause)
        },
      ))
    return {
      upload(source, uploadOptions) {
        const opts = normalizeUploadOptions(uploadOptions, options)
        const open = platform.prepareSource(source, opts)
        const control = new UploadControl()
        const openChecked = (s: AbortSignal): Promise<FileSource<B>> => {
          throwIfAborted(s)
          return open(s)
        }
        return controlled(control, opts.signal, () =>
          settling(
            control,
            engine().then(({ runUpload, deps }) => runUpload(deps, control, openChecked, opts)),
          ),
        )
      },
      uploadMany(items, manyOptions) {
        const settings = normalizeManyOptions(manyOptions, options)
        const group = new GroupControl()
        return controlled(group, settings.signal, () =>
          engine().then(({ uploadMany, api, deps }) =>
            uploadMany({ deps, endpoint: api, prepareSource: (s, o) => platform.prepareSource(s, o) }, group, items, settings),
          ),
        )
      },
    }
  }
}
