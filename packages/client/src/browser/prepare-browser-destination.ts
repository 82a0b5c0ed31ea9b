/**
 * What browsers download to, checked before any I/O. The staging code (origin-private files,
 * memory) loads with the first download, in a chunk of its own.
 */
import { ValetError } from '@valet/protocol'
import type { NormalizedDownloaderOptions } from '../download/download-options.js'
import type { PreparedDestination } from '../download/download-ports.js'

/**
 * Where a browser download goes: a `FileSystemFileHandle` (from `showSaveFilePicker()`, or a file
 * of the origin-private file system), a `WritableStream<Uint8Array>` (a service worker's
 * response, a StreamSaver-style sink), or `undefined` for a `Blob` in `DownloadResult.blob`.
 */
export type BrowserDestination = FileSystemFileHandle | WritableStream<Uint8Array> | undefined

/** The destination, sorted; what the staging code delivers to. */
export type DestinationTarget =
  | { kind: 'handle'; handle: FileSystemFileHandle }
  | { kind: 'stream'; stream: WritableStream<Uint8Array> }
  | { kind: 'blob' }

/** A handle of this realm or another (an iframe's), told by its shape. */
function isFileHandle(value: unknown): value is FileSystemFileHandle {
  const v = value as FileSystemFileHandle
  return typeof v === 'object' && v !== null && v.kind === 'file' && typeof v.createWritable === 'function' && typeof v.name === 'string'
}

function isWritableStream(value: unknown): value is WritableStream<Uint8Array> {
  const v = value as WritableStream<Uint8Array>
  return typeof v === 'object' && v !== null && typeof v.getWriter === 'function'
}

function targetOf(destination: unknown): DestinationTarget {
  if (destination === undefined) return { kind: 'blob' }
  if (isFileHandle(destination)) return { kind: 'handle', handle: destination }
  if (isWritableStream(destination)) {
    if (destination.locked) {
      throw new ValetError('invalid_option', 'download(): `destination` is a WritableStream that is already locked to a writer; pass an unlocked stream', {
        context: { option: 'destination', owner: 'download()' },
      })
    }
    return { kind: 'stream', stream: destination }
  }
  const what = destination === null ? 'null' : typeof destination === 'object' ? Object.prototype.toString.call(destination) : typeof destination
  throw new ValetError(
    'invalid_option',
    `download(): \`destination\` must be a FileSystemFileHandle (kind 'file'), a WritableStream, or undefined for a Blob; got ${what}`,
    { context: { option: 'destination', owner: 'download()' } },
  )
}

/**
 * Checks a browser destination synchronously and returns how to open its staging. The `id`
 * joins the download's fingerprint: a handle by its name (pick the same file again after a
 * reload and the download continues), a stream or a Blob by kind only, since every run gets a
 * new one: their bytes are staged in the origin-private file system and only handed over once
 * the whole object is verified, so a reloaded page resumes into a new stream just as well.
 *
 * @example
 * ```ts
 * const prepared = prepareBrowserDestination(await showSaveFilePicker(), options)
 * prepared.id // 'handle:report.pdf'
 * ```
 */
export function prepareBrowserDestination(destination: BrowserDestination, options: Pick<NormalizedDownloaderOptions, 'maxBlobSize'>): PreparedDestination {
  const target = targetOf(destination)
  return {
    id: target.kind === 'handle' ? `handle:${target.handle.name}` : target.kind,
    async open(plan, signal) {
      const { openBrowserSink } = await import('./open-browser-sink.js')
      return openBrowserSink(target, plan, { maxBlobSize: options.maxBlobSize, signal })
    },
  }
}
