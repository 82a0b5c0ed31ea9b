/** What browsers upload, checked before any I/O. */
import { ValetError } from '@valet/protocol'
import { invalidUploadOption, type UploadSettings } from '../normalize-options.js'
import type { FileSource } from '../ports.js'
import { browserFileSource } from './browser-file-source.js'
import type { PartRef } from './part-ref.js'

/** What the browser entry uploads: a `File` (from an input or a drop) or any `Blob`. */
export type BrowserSource = File | Blob

/** A Blob from this realm or another (an iframe's `File` fails `instanceof Blob` here). */
function isBlob(value: unknown): value is Blob {
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true
  const tag = Object.prototype.toString.call(value)
  return (tag === '[object Blob]' || tag === '[object File]') && typeof (value as Blob).slice === 'function'
}

/**
 * Checks a browser source synchronously and returns how to open it. Parts stay `Blob` slices:
 * workers hash them and XHR sends them, so a file is never read whole on the main thread.
 */
export function prepareBrowserSource(source: BrowserSource, options: UploadSettings): (signal: AbortSignal) => Promise<FileSource<PartRef>> {
  if (!isBlob(source)) throw new ValetError('invalid_source', 'expected a File or a Blob')
  const name = (source as Partial<File>).name
  if (options.name === undefined && (typeof name !== 'string' || name === '')) {
    throw invalidUploadOption('name', 'is required when uploading a Blob that is not a File')
  }
  return async () => browserFileSource(source)
}
