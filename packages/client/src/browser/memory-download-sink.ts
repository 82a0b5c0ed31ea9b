/**
 * Staging in memory, where the origin-private file system can't be used (some private modes,
 * old engines). Committed ranges become Blobs, which browsers may page out to disk, but nothing
 * survives a reload: never resumable.
 */
import type { DownloadSink, RangeWriter } from '../download/download-ports.js'
import { deliverDownload, readBlob } from './deliver-download.js'
import type { DestinationTarget } from './prepare-browser-destination.js'

/** Ranges kept by start offset. */
type Ranges = Map<number, Blob>

/** The committed ranges covering `[start, end)`, in order, with the offset each starts at. */
export function* coveringRanges(ranges: Map<number, { size: number }>, start: number, end: number): Generator<[number, number]> {
  const starts = [...ranges.keys()].sort((a, b) => a - b)
  let at = start
  for (const s of starts) {
    const size = ranges.get(s)!.size
    if (s + size <= at || size === 0) continue
    if (s > at || at >= end) break
    yield [s, size]
    at = s + size
  }
  if (at < end) throw new Error(`staging holds no committed bytes at offset ${at} (asked for [${start}, ${end}))`)
}

/**
 * A {@link DownloadSink} in memory. `open` checked the object fits `maxBlobSize`.
 *
 * @example
 * ```ts
 * const sink = memoryDownloadSink({ kind: 'blob' }, 5)
 * const w = await sink.writer(0, 5)
 * await w.write(new TextEncoder().encode('hello'))
 * await w.commit()
 * const { blob } = await sink.finish(signal)
 * ```
 */
export function memoryDownloadSink(target: DestinationTarget, size: number): DownloadSink {
  const ranges: Ranges = new Map()
  return {
    resumed: false,
    async writer(start, end): Promise<RangeWriter> {
      let chunks: Uint8Array[] = []
      return {
        async write(chunk) {
          // The fetcher reuses its buffers: keep a copy.
          chunks.push(chunk.slice())
        },
        async commit() {
          const blob = new Blob(chunks as BlobPart[])
          chunks = []
          if (blob.size !== end - start) throw new Error(`range [${start}, ${end}) got ${blob.size} bytes`)
          ranges.set(start, blob)
        },
        async discard() {
          chunks = []
        },
      }
    },
    async *read(start, end, signal) {
      for (const [s, size] of coveringRanges(ranges, start, end)) {
        const from = Math.max(start, s)
        yield* readBlob(ranges.get(s)!, from - s, Math.min(end, s + size) - s, signal)
      }
    },
    async finish(signal) {
      const ordered = [...coveringRanges(ranges, 0, size)].map(([s]) => ranges.get(s)!)
      const result = await deliverDownload(target, ordered, signal)
      ranges.clear()
      return result
    },
    async close() {},
    async discard() {
      ranges.clear()
    },
  }
}
