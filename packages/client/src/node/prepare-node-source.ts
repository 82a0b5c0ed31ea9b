import type { Readable } from 'node:stream'
import { ValetError } from '@valet/protocol'
import { blobSource } from '../sources/blob-source.js'
import { bytesSource } from '../sources/bytes-source.js'
import { invalidUploadOption, type UploadSettings } from '../normalize-options.js'
import type { FileSource } from '../ports.js'
import type { NodeBody } from './file-range.js'
import { openPathSource } from './path-source.js'
import { streamSource } from './stream-source.js'

/** What Node uploads: a file path, bytes in memory, a `Blob`/`File`, or a `Readable` with `size`. */
export type NodeSource = string | Uint8Array | Blob | Readable

function isReadable(value: unknown): value is Readable {
  const v = value as Readable
  return typeof v === 'object' && v !== null && typeof v.pipe === 'function' && typeof v[Symbol.asyncIterator] === 'function'
}

/** Checks a Node source synchronously and returns how to open it. */
export function prepareNodeSource(source: NodeSource, options: UploadSettings): (signal: AbortSignal) => Promise<FileSource<NodeBody>> {
  if (typeof source === 'string') {
    if (source === '') throw new ValetError('invalid_source', 'the file path is empty')
    return () => openPathSource(source)
  }
  if (source instanceof Uint8Array) {
    if (options.name === undefined) throw invalidUploadOption('name', 'is required when uploading bytes')
    return async () => bytesSource(source, options.name as string)
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return async () => blobSource(source)
  }
  if (isReadable(source)) {
    if (options.size === undefined) throw invalidUploadOption('size', 'is required when uploading a stream')
    if (options.name === undefined) throw invalidUploadOption('name', 'is required when uploading a stream')
    return async () => streamSource(source, options.size as number, options.name as string)
  }
  throw new ValetError('invalid_source', 'expected a file path, a Uint8Array, a Blob or a Readable')
}
