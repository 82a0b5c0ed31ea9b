/**
 * The last step of a browser download: the verified ranges, in order, go to the destination. The
 * ranges are Blobs (origin-private files or memory), so nothing here holds more than one read
 * step of the object at a time.
 */
import type { DestinationTarget } from './prepare-browser-destination.js'

/** Bytes per read when copying a Blob into a stream: small enough to keep memory flat. */
export const COPY_STEP = 1024 * 1024

/** Reads `blob[start, end)` in steps of {@link COPY_STEP}. */
export async function* readBlob(blob: Blob, start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let at = start; at < end; at += COPY_STEP) {
    if (signal.aborted) throw signal.reason
    yield new Uint8Array(await blob.slice(at, Math.min(end, at + COPY_STEP)).arrayBuffer())
  }
}

/**
 * Writes `ranges` in order to a file handle or a stream; for a Blob destination, returns one Blob
 * of them (no copy: a Blob of Blobs refers to its parts).
 */
export async function deliverDownload(target: DestinationTarget, ranges: Blob[], signal: AbortSignal): Promise<{ blob?: Blob }> {
  if (signal.aborted) throw signal.reason
  if (target.kind === 'blob') return { blob: new Blob(ranges) }
  if (target.kind === 'handle') {
    // Without keepExistingData the file starts empty; nothing shows in it until close() swaps
    // the written copy in, so a failure here leaves the file as it was.
    const writable = await target.handle.createWritable()
    try {
      for (const range of ranges) {
        if (signal.aborted) throw signal.reason
        // A Blob (an origin-private file) is copied by the browser, not through this thread.
        await writable.write(range)
      }
      await writable.close()
    } catch (error) {
      await writable.abort(error).catch(() => {})
      throw error
    }
    return {}
  }
  const writer = target.stream.getWriter()
  try {
    for (const range of ranges) {
      for await (const chunk of readBlob(range, 0, range.size, signal)) await writer.write(chunk)
    }
    await writer.close()
  } catch (error) {
    // The stream got part of the object: tell its reader it is not whole. A stream can't be
    // rewound, so a later run needs a new one (staging is kept: it refetches nothing).
    await writer.abort(error).catch(() => {})
    throw error
  } finally {
    writer.releaseLock()
  }
  return {}
}
