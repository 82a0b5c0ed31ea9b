/** What `uploadMany` takes and reports, and the small helpers that read its items. */
import { ValetError, isValetError } from '@valet/protocol'
import type { ManyProgress } from './many-progress.js'
import type { UploadProgress } from './progress-tracker.js'
import type { UploadResult } from './run-upload.js'

/** One file for `uploadMany`: a source, with what `upload()` would take for it. */
export interface ManyItem<TSource> {
  source: TSource
  /** @default the source's own name (a path's basename, `File.name`) */
  name?: string
  type?: string
  metadata?: Record<string, string>
}

/** What the callbacks learn about a file: its place in the items and, once opened, name and size. */
export interface ManyFile {
  index: number
  name: string
  /** `undefined` until the file is opened. */
  size: number | undefined
}

/** How one file of `uploadMany` ended. */
export type ManyOutcome =
  | { index: number; name: string; ok: true; result: UploadResult }
  | { index: number; name: string; ok: false; error: ValetError }

/** `uploadMany`'s options, checked. */
export interface ManySettings {
  concurrency: number
  onProgress?: (progress: ManyProgress) => void
  onFileStart?: (file: ManyFile) => void
  onFileProgress?: (file: ManyFile, progress: UploadProgress) => void
  onFileDone?: (outcome: ManyOutcome) => void
}

export function isItem<TSource>(value: unknown): value is ManyItem<TSource> {
  if (typeof value !== 'object' || value === null || !('source' in value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** A name to report before the file is open (or when it never opens). */
export function nameOf(source: unknown, item: ManyItem<unknown> | undefined): string {
  if (item?.name !== undefined) return item.name
  if (typeof source === 'string') return source.split(/[\\/]/).pop() ?? source
  const named = (source as { name?: unknown } | null)?.name
  return typeof named === 'string' ? named : ''
}

export function asValetError(e: unknown): ValetError {
  if (isValetError(e)) return e
  return new ValetError('internal_error', e instanceof Error ? e.message : String(e), { cause: e })
}

export function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // A callback's bug must not stop the uploads.
  }
}

export async function* itemsOf<T>(items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items as AsyncIterable<T>
}
