import { blobSource } from '../sources/blob-source.js'
import type { FileSource } from '../ports.js'
import { PartRef, asPartBody } from './part-ref.js'

/**
 * A `File` or `Blob` as a source. Parts are {@link PartRef}s, not slices: the workers slice and
 * read them, so a file is never read, or even sliced, on the page's main thread.
 */
export function browserFileSource(file: Blob): FileSource {
  const inner = blobSource(file, { materialize: false })
  return {
    ...inner,
    async read(start, end) {
      return asPartBody(new PartRef(file, start, end))
    },
  }
}
