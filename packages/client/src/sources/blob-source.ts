import { raceSignal } from '../engine/abort.js'
import type { FileSource } from '../ports.js'
import { sampleRanges } from './sample-ranges.js'

/**
 * A `Blob` or `File` as a source. Browsers keep parts as `Blob` slices (the hasher and XHR read
 * them, the main thread never does); Node turns them into bytes (`materialize`), since axios's
 * http adapter sends buffers.
 */
export function blobSource(blob: Blob, options: { materialize: boolean }): FileSource {
  const file = blob as Partial<File>
  const name = typeof file.name === 'string' ? file.name : ''
  const lastModified = typeof file.lastModified === 'number' ? file.lastModified : undefined
  return {
    name,
    size: blob.size,
    type: blob.type,
    lastModified,
    access: 'random',
    async read(start, end, signal) {
      const slice = blob.slice(start, end)
      if (!options.materialize) return slice
      return new Uint8Array(await raceSignal(slice.arrayBuffer(), signal))
    },
    async identity() {
      return {
        key: JSON.stringify(['blob', name, blob.size, lastModified ?? null, blob.type]),
        samples: sampleRanges(blob.size).map(([s, e]) => blob.slice(s, e)),
      }
    },
    async close() {},
  }
}
