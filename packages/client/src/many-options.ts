/** `uploadMany()`'s options: checked once, synchronously, with the option kit. */
import { OptionReader } from '@valet/protocol'
import type { ManyFile, ManyOutcome, ManySettings } from './engine/upload-many.js'
import type { ManyProgress } from './engine/many-progress.js'
import type { UploadProgress } from './engine/progress-tracker.js'

export interface UploadManyOptions {
  /**
   * Storage PUTs in flight over all files: small files go this many at a time (one PUT each),
   * a multipart file takes up to its own part `concurrency` of them. Files start in item order.
   * @default the uploader's `concurrency`
   */
  concurrency?: number
  /** Aborting it is `abort()`. @default undefined */
  signal?: AbortSignal
  /** Totals over every file, at most every `progressInterval` ms and once at the end. @default undefined */
  onProgress?: (progress: ManyProgress) => void
  /** A file starts sending (or, if it never sends, just before its `onFileDone`); once per file. @default undefined */
  onFileStart?: (file: ManyFile) => void
  /** One file's progress, as `upload()`'s `onProgress` reports it. @default undefined */
  onFileProgress?: (file: ManyFile, progress: UploadProgress) => void
  /** A file ended: complete (`ok: true`) or with its typed error. @default undefined */
  onFileDone?: (outcome: ManyOutcome) => void
}

const KNOWN = ['concurrency', 'signal', 'onProgress', 'onFileStart', 'onFileProgress', 'onFileDone'] as const

/** Validates `uploadMany()`'s options; throws `ValetError('invalid_option')` naming the option. */
export function normalizeManyOptions(options: UploadManyOptions | undefined, uploader: { concurrency: number }): ManySettings & { signal?: AbortSignal } {
  const read = new OptionReader('uploadMany()', options ?? {}, KNOWN)
  const signal = read.raw('signal') as AbortSignal | undefined
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    read.fail('signal', 'must be an AbortSignal')
  }
  for (const f of ['onProgress', 'onFileStart', 'onFileProgress', 'onFileDone'] as const) read.func(f)
  return {
    ...options,
    concurrency: read.integer('concurrency', { min: 1, max: 1024, fallback: uploader.concurrency }),
  }
}
