import { ValetError } from '@valet/protocol'
import { NEVER, raceSignal } from '../engine/abort.js'
import type { FileSource } from '../ports.js'
import { sampleRanges } from './sample-ranges.js'

/**
 * A `Blob` or `File` as a source whose parts are bytes: Node's, since axios's http adapter sends
 * buffers. (Browsers never read a file on the page's thread: see `browser/browser-file-source.ts`.)
 */
export function blobSource(blob: Blob): FileSource<Uint8Array> {
  const file = blob as Partial<File>
  const name = typeof file.name === 'string' ? file.name : ''
  const lastModified = typeof file.lastModified === 'number' ? file.lastModified : undefined
  const read = async (start: number, end: number, signal: AbortSignal): Promise<Uint8Array> => {
    const bytes = new Uint8Array(await raceSignal(blob.slice(start, end).arrayBuffer(), signal))
    // A File backed by a disk file that shrank reads short: a short part must never go out.
    if (bytes.byteLength !== end - start) {
      throw new ValetError('invalid_source', `bytes ${start}-${end} of ${name || 'the Blob'} read as ${bytes.byteLength} bytes: did the file change?`)
    }
    return bytes
  }
  return {
    name,
    size: blob.size,
    type: blob.type,
    lastModified,
    access: 'random',
    read,
    async identity() {
      return {
        key: JSON.stringify(['blob', name, blob.size, lastModified ?? null, blob.type]),
        samples: await Promise.all(sampleRanges(blob.size).map(([s, e]) => read(s, e, NEVER))),
      }
    },
    async close() {},
  }
}
