/**
 * Chooses a browser download's staging: the origin-private file system where it works, memory
 * (Blobs up to `maxBlobSize`) where it doesn't. Each staging directory is held with a Web Lock
 * while a download (or a Blob it handed out) uses it, so two tabs downloading the same object
 * never write into one directory, and a sweep never removes one in use.
 */
import { ValetError } from '@valet/protocol'
import type { DownloadSink, SinkPlan } from '../download/download-ports.js'
import { memoryDownloadSink } from './memory-download-sink.js'
import { BLOB_MARKER, entriesOf, openOpfsSink } from './opfs-download-sink.js'
import type { DestinationTarget } from './prepare-browser-destination.js'

/** The origin-private directory of every download's staging. */
export const STAGING_DIR = 'valet-downloads'
/** Staging untouched this long (its download state is dropped then too) is removed. */
const STALE_MS = 7 * 24 * 3600 * 1000

type Release = (keep?: boolean) => void

// Where Web Locks are missing, a lock is only good within this page.
const localLocks = new Set<string>()

/** Takes lock `name` if it is free; resolves a release function, or `undefined` when held elsewhere. */
export function tryLock(name: string): Promise<Release | undefined> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks === undefined) {
    if (localLocks.has(name)) return Promise.resolve(undefined)
    localLocks.add(name)
    return Promise.resolve((keep?: boolean) => void (keep || localLocks.delete(name)))
  }
  return new Promise((resolve, reject) => {
    locks
      .request(`valet-download:${name}`, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(undefined)
          return undefined
        }
        // The lock is held until this promise settles: `keep` never settles it (the page's end does).
        return new Promise<void>((unlock) => resolve((keep?: boolean) => void (keep || unlock())))
      })
      .catch(reject)
  })
}

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

/**
 * Removes staging nobody uses: directories of a Blob handed out by a page now gone, private
 * directories of a page that died, and any untouched for 7 days. Once per page, in the
 * background; every directory is locked while it is looked at.
 */
async function sweep(root: FileSystemDirectoryHandle, now: number): Promise<void> {
  const names: string[] = []
  for await (const [name, handle] of entriesOf(root)) if (handle.kind === 'directory') names.push(name)
  for (const name of names) {
    const release = await tryLock(name)
    if (release === undefined) continue
    try {
      const dir = await root.getDirectoryHandle(name)
      let newest = 0
      let delivered = false
      for await (const [file, handle] of entriesOf(dir)) {
        if (file === BLOB_MARKER) delivered = true
        if (handle.kind === 'file') newest = Math.max(newest, (await (handle as FileSystemFileHandle).getFile()).lastModified)
      }
      if (delivered || name.includes('.') || now - newest > STALE_MS) await root.removeEntry(name, { recursive: true })
    } catch {
      // Gone already, or busy: the next sweep sees it again.
    } finally {
      release()
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
    return memoryDownloadSink(target)
  }
  let name = plan.fingerprint
  let release = await tryLock(name)
  let resume = plan.resume
  if (release === undefined) {
    // Another download of the same object (this tab or another) holds its directory: this one
    // stages privately and can't be resumed; the sweep removes what a dead page left of it.
    name = `${plan.fingerprint}.${crypto.randomUUID()}`
    release = (await tryLock(name))!
    resume = false
  }
  if (options.signal.aborted) {
    release()
    throw options.signal.reason
  }
  let sink: DownloadSink
  try {
    const fromRun = release
    const isPrivate = name !== plan.fingerprint
    sink = await openOpfsSink(target, { root, name, resume, release: (keep) => fromRun(keep) })
    if (isPrivate) sink = removedWhenClosed(sink, root, name)
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
