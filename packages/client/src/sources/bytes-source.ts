import type { FileSource } from '../ports.js'
import { sampleRanges } from './sample-ranges.js'

/** Bytes in memory as a source. Parts are views, never copies. */
export function bytesSource(bytes: Uint8Array, name: string): FileSource<Uint8Array> {
  return {
    name,
    size: bytes.byteLength,
    type: '',
    access: 'random',
    async read(start, end) {
      return bytes.subarray(start, end)
    },
    async identity() {
      return {
        key: JSON.stringify(['bytes', name, bytes.byteLength]),
        samples: sampleRanges(bytes.byteLength).map(([s, e]) => bytes.subarray(s, e)),
      }
    },
    async close() {},
  }
}
