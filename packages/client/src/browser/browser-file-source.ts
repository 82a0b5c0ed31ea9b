import type { FileSource } from '../ports.js'
import { sampleRanges } from '../sources/sample-ranges.js'
import { PartRef } from './part-ref.js'

/**
 * A `File` or `Blob` as a source. Parts, and the fingerprint's samples, are {@link PartRef}s,
 * not slices: the workers slice and read them, so a file is never read, or even sliced, on the
 * page's main thread.
 */
export function browserFileSource(file: Blob): FileSource<PartRef> {
  const named = file as Partial<File>
  const name = typeof named.name === 'string' ? named.name : ''
  const lastModified = typeof named.lastModified === 'number' ? named.lastModified : undefined
  return {
    name,
    size: file.size,
    type: file.type,
    lastModified,
    access: 'random',
    async read(start, end) {
      return new PartRef(file, start, end)
    },
    async identity() {
      return {
        key: JSON.stringify(['blob', name, file.size, lastModified ?? null, file.type]),
        samples: sampleRanges(file.size).map(([s, e]) => new PartRef(file, s, e)),
      }
    },
    async close() {},
  }
}
