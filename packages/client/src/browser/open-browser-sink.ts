/**
 * Chooses a browser download's staging: the origin-private file system where it works, memory
 * (Blobs up to `maxBlobSize`) where it doesn't. Two Web Locks guard a directory: `run:<fingerprint>`
 * while a download runs (a second tab downloading the same key to the same destination is
 * refused, as a second download in one page is by the engine), and `blob:<directory>` while a
 * page holds a Blob made of its files. A sweep removes only what neither lock holds.
 */
import { ValetError } from '@valet/protocol'
import type { DownloadSink, SinkPlan } from '../download/download-ports.js'
import { memoryDownloadSink } from './memory-download-sink.js'
import { BLOB_MARKER, entriesOf, openOpfsSink } from './opfs-download-sink.js'
import { isLocked, tryLock } from './try-lock.js'
import type { DestinationTarget } from './prepare-browser-destination.js'

/** The origin-private directory of every download's staging. */
export const STAGING_DIR = 'valet-downloads'
/** Staging untouched this long (its download state is dropped then too) is removed. */
const STALE_MS = 7 * 24 * 3600 * 1000

async function stagingRoot(): Promise<FileSystemDirectoryHandle | undefined> {
  // Staging writes with createWritable(), which some engines offer only in workers (older
  // Safari has OPFS on the page without it): there, memory.
  const FileHandle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle
  if (FileHandle !== undefined && !('createWritable' in FileHandle.prototype)) return undefined
  try {
    const top = await navigator.storage.getDirectory()
    return await top.getDirectoryHandle(STAGING_DIR, { create: true })
  } catch {
    // No OPFS here (unsupported, a private mode, storage blocked): staging goes to memory.
    return undefined
  }
}

function tooLarge(plan: SinkPlan, target: DestinationTarget, maxBlobSize: number): ValetError {
  const fix = target.kind === 'blob' ? 'pass a FileSystemFileHandle or a WritableStream as the destination, or raise maxBlobSize' : 'raise maxBlobSize, or use a browser context where navigator.storage.getDirectory() works'
  return new ValetError(
    'file_too_large',
    `the object is ${plan.size} bytes, above maxBlobSize (${maxBlobSize}); the origin-private file system can't be used here, so the download would be staged in memory: ${fix}`,
    { context: { size: plan.size, maxBlobSize } },
  )
}

let swept = false

async function hasMarker(dir: FileSystemDirectoryHandle): Promise<boolean> {
  return dir.getFileHandle(BLOB_MARKER).then(
    () => true,
    () => false,
  )
}

/**
 * Removes staging nobody uses: directories whose Blob's page is gone, private directories of a
 * page that died, and any untouched for 7 days. Once per page, in the background; a directory
 * whose download runs is skipped, one a page's Blob reads from is skipped (its lock is taken for
 * the look, so no download clears it meanwhile).
 */
async function sweep(root: FileSystemDirectoryHandle, now: number): Promise<void> {
  const names: string[] = []
  for await (const [name, handle] of entriesOf(root)) if (handle.kind === 'directory') names.push(name)
  for (const name of names) {
    // A run of this download (private directories included) leaves it alone. Checked, not
    // taken: a download starting now must not find its lock busy. One starting right after the
    // check only ever meets a directory that is private, a dead Blob's, or a week old, which it
    // would not resume from either.
    if (await isLocked(`run:${name.split('.')[0]}`)) continue
    const blob = await tryLock(`blob:${name}`)
    try {
      if (blob === undefined) continue
      const dir = await root.getDirectoryHandle(name)
      let newest = 0
      for await (const [, handle] of entriesOf(dir)) {
        if (handle.kind === 'file') newest = Math.max(newest, (await (handle as FileSystemFileHandle).getFile()).lastModified)
      }
      if (name.includes('.') || (await hasMarker(dir)) || now - newest > STALE_MS) await root.removeEntry(name, { recursive: true })
    } catch {
      // Gone already, or busy: the next sweep sees it again.
    } finally {
      blob?.()
    }
  }
}

/**
 * Opens the staging of one download.
 *
 * @example
 * ```ts
 * const sink = await openBrowserSink({ kind: 'blob' }, plan, { maxBlobSize: 256 * 1024 * 1024, signal })
 * ```
 */
export async function openBrowserSink(target: DestinationTarget, plan: SinkPlan, options: { maxBlobSize: number; signal: AbortSignal }): Promise<DownloadSink> {
  const root = await stagingRoot()
  if (root === undefined) {
    if (plan.size > options.maxBlobSize) throw tooLarge(plan, target, options.maxBlobSize)
    return memoryDownloadSink(target, plan.size)
  }
  const release = await tryLock(`run:${plan.fingerprint}`)
  if (release === undefined) {
    throw new ValetError('invalid_option', `download(): "${plan.key}" is already being downloaded to that destination in another tab or window; wait for it, or pick another destination`, {
      context: { option: 'destination', owner: 'download()' },
    })
  }
  let sink: DownloadSink
  try {
    if (options.signal.aborted) throw options.signal.reason
    let name = plan.fingerprint
    let resume = plan.resume
    const existing = await root.getDirectoryHandle(name).catch(() => undefined)
    if (existing !== undefined && (await hasMarker(existing))) {
      const blob = await tryLock(`blob:${name}`)
      if (blob === undefined) {
        // A Blob of an earlier run of this download is still held by a page: its files stay, this
        // run stages beside them (not resumable: a later run can't find it; swept once unused).
        name = `${plan.fingerprint}.${crypto.randomUUID()}`
        resume = false
      } else {
        // That Blob's page is gone: openOpfsSink clears the directory.
        blob()
      }
    }
    const dirName = name
    sink = await openOpfsSink(target, {
      root,
      name,
      size: plan.size,
      resume,
      release,
      async keepForBlob() {
        // Never released: the browser drops it when this page goes.
        await tryLock(`blob:${dirName}`)
      },
    })
    if (name !== plan.fingerprint) sink = removedWhenClosed(sink, root, name)
  } catch (error) {
    release()
    throw error
  }
  if (!swept) {
    swept = true
    void sweep(root, Date.now()).catch(() => {})
  }
  return sink
}

/** A private directory can't be found by a later run: stopping it removes it, as a discard would. */
function removedWhenClosed(sink: DownloadSink, root: FileSystemDirectoryHandle, name: string): DownloadSink {
  let finished = false
  return {
    get resumed() {
      return sink.resumed
    },
    writer: (start, end) => sink.writer(start, end),
    read: (start, end, signal) => sink.read(start, end, signal),
    async finish(signal) {
      const result = await sink.finish(signal)
      finished = true
      return result
    },
    async close() {
      await sink.close()
      // A Blob handed out reads from the directory: it stays until the page is gone.
      if (!finished) await root.removeEntry(name, { recursive: true }).catch(() => {})
    },
    discard: () => sink.discard(),
  }
}
