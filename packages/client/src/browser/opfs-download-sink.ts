/**
 * Staging in the origin-private file system (OPFS): one directory per download, one file per
 * range named by its start offset. A range's file is written through `createWritable()`, whose
 * bytes land in the file only at `close()` — so a committed range is whole and survives a
 * reload, and an interrupted one leaves nothing that could pass for it.
 */
import type { DownloadSink, RangeWriter } from '../download/download-ports.js'
import { deliverDownload, readBlob } from './deliver-download.js'
import { coveringRanges } from './memory-download-sink.js'
import type { DestinationTarget } from './prepare-browser-destination.js'

/** Marks a staging directory whose bytes back a Blob handed out: never resumed, removed once unlocked. */
export const BLOB_MARKER = 'blob-delivered'

/** A directory's entries; TypeScript's DOM lib types its async iteration elsewhere. */
export function entriesOf(dir: FileSystemDirectoryHandle): AsyncIterable<[string, FileSystemHandle]> {
  return (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()
}

/** Committed range files by start offset (names that aren't offsets, e.g. Chromium's `.crswap`, are skipped). */
async function listRanges(dir: FileSystemDirectoryHandle): Promise<Map<number, { size: number }>> {
  const ranges = new Map<number, { size: number }>()
  for await (const [name, handle] of entriesOf(dir)) {
    if (handle.kind !== 'file' || !/^(0|[1-9]\d*)$/.test(name)) continue
    const size = (await (handle as FileSystemFileHandle).getFile()).size
    if (size > 0) ranges.set(Number(name), { size })
  }
  return ranges
}

export interface OpfsSinkOptions {
  /** The directory holding every download's staging (`valet-downloads`). */
  root: FileSystemDirectoryHandle
  /** This download's directory name in `root`. */
  name: string
  /** The object's size: what the ranges must cover at finish. */
  size: number
  /** Whether to look for ranges of an earlier run (else the directory starts empty). */
  resume: boolean
  /** The download stops using the directory (finished, closed, discarded). */
  release(): void
  /** A Blob was handed out that reads from the directory: keep it while this page lives. */
  keepForBlob(): Promise<void>
}

/**
 * Opens a {@link DownloadSink} in OPFS, in `root/name`.
 *
 * @example
 * ```ts
 * const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('valet-downloads', { create: true })
 * const sink = await openOpfsSink({ kind: 'blob' }, { root, name: fingerprint, size, resume: true, release() {}, async keepForBlob() {} })
 * ```
 */
export async function openOpfsSink(target: DestinationTarget, options: OpfsSinkOptions): Promise<DownloadSink> {
  const { root, name, size } = options
  let dir = await root.getDirectoryHandle(name, { create: true })
  let ranges = new Map<number, { size: number }>()
  let delivered = false
  if (options.resume) {
    // A directory whose Blob was handed out is done with (its lock was free, so the page is gone).
    delivered = await dir.getFileHandle(BLOB_MARKER).then(() => true, () => false)
    if (!delivered) ranges = await listRanges(dir)
  }
  if (!options.resume || delivered) {
    await root.removeEntry(name, { recursive: true }).catch(() => {})
    dir = await root.getDirectoryHandle(name, { create: true })
  }
  const open = new Set<FileSystemWritableFileStream>()
  let released = false
  const release = () => {
    if (released) return
    released = true
    options.release()
  }
  const abortOpen = async () => {
    await Promise.all([...open].map((w) => w.abort().catch(() => {})))
    open.clear()
  }
  const remove = () => root.removeEntry(name, { recursive: true }).catch(() => {})
  const files = async (starts: number[]) => Promise.all(starts.map(async (s) => (await dir.getFileHandle(String(s))).getFile()))

  return {
    resumed: ranges.size > 0,
    async writer(start, end): Promise<RangeWriter> {
      // Files of another cut of the object (an earlier run's range size) must not cover this span.
      for (const [s, { size }] of [...ranges]) {
        if (s !== start && s < end && s + size > start) {
          ranges.delete(s)
          await dir.removeEntry(String(s)).catch(() => {})
        }
      }
      ranges.delete(start)
      const file = await dir.getFileHandle(String(start), { create: true })
      // No keepExistingData: the write starts from an empty copy, whatever the file held.
      const writable = await file.createWritable()
      open.add(writable)
      let written = 0
      return {
        async write(chunk) {
          // Awaited before the chunk's promise settles: the view is still valid while it's copied.
          await writable.write(chunk as Uint8Array<ArrayBuffer>)
          written += chunk.byteLength
        },
        async commit() {
          open.delete(writable)
          await writable.close()
          if (written !== end - start) throw new Error(`range [${start}, ${end}) got ${written} bytes`)
          ranges.set(start, { size: written })
        },
        async discard() {
          open.delete(writable)
          await writable.abort().catch(() => {})
        },
      }
    },
    async holds(start, end) {
      return ranges.get(start)?.size === end - start
    },
    async *read(start, end, signal) {
      for (const [s, size] of coveringRanges(ranges, start, end)) {
        const [file] = await files([s])
        if (file!.size !== size) throw new Error(`staged range at ${s} holds ${file!.size} bytes, not ${size}`)
        yield* readBlob(file!, Math.max(start, s) - s, Math.min(end, s + size) - s, signal)
      }
    },
    async finish(signal) {
      // Every byte must be staged: a state that called a range done which staging lacks (cleared
      // site data) fails here rather than handing over a short file.
      const starts = [...coveringRanges(ranges, 0, size)].map(([s]) => s)
      const result = await deliverDownload(target, await files(starts), signal)
      if (target.kind === 'blob') {
        // The Blob reads from these files: deleting them would break it (Chromium's reads then
        // fail with NotFoundError). They stay, marked, under a lock this page holds until it goes;
        // a later download or sweep finds that lock free and removes them.
        await dir.getFileHandle(BLOB_MARKER, { create: true })
        await options.keepForBlob()
        release()
      } else {
        await remove()
        release()
      }
      return result
    },
    async close() {
      await abortOpen()
      release()
    },
    async discard() {
      await abortOpen()
      await remove()
      release()
    },
  }
}
