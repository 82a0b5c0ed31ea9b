/**
 * Node's download destination: a file path. Bytes are written in place into
 * `<destination>.valet-partial` (sized to the object up front), which is renamed onto the
 * destination only once every byte is verified, so the destination never holds a partial or
 * unverified object, and a killed run leaves the partial file for the next one. With `fsync`
 * the bytes are also on disk before the rename (a power cut leaves the destination whole or
 * absent).
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ValetError } from '@valet/protocol'
import type { DownloadSink, PreparedDestination, RangeWriter, SinkPlan } from '../download/download-ports.js'
import { lockDestination } from './destination-lock.js'

/** Where a download to `destination` stages its bytes. */
export function partialPath(destination: string): string {
  return `${destination}.valet-partial`
}

/** Body chunks are gathered into writes of about this size. */
const WRITE_BATCH = 1024 * 1024

/** Writes `chunks` at `position`, however many calls the OS takes. */
async function writeAll(file: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let at = position
  let left = chunks
  while (left.length > 0) {
    const { bytesWritten } = await file.writev(left, at)
    at += bytesWritten
    // A short write: drop what went, keep the rest of the chunk it stopped in.
    let skip = bytesWritten
    const rest: Uint8Array[] = []
    for (const c of left) {
      if (skip >= c.byteLength) skip -= c.byteLength
      else {
        rest.push(skip > 0 ? c.subarray(skip) : c)
        skip = 0
      }
    }
    left = rest
  }
}

/** Reads back staged bytes in steps of this size. */
const READ_STEP = 1024 * 1024

/**
 * Checks a destination path at once (throws `invalid_option`) and opens its staging later.
 *
 * @example `prepareNodeDestination('./out/report.pdf')`
 */
export function prepareNodeDestination(destination: unknown, options: { fsync: boolean } = { fsync: false }): PreparedDestination {
  if (typeof destination !== 'string' || destination.trim() === '') {
    throw new ValetError('invalid_option', `download(): \`destination\` must be a file path, got ${typeof destination === 'string' ? 'an empty string' : typeof destination}`, {
      context: { option: 'destination', owner: 'download()' },
    })
  }
  const path = resolve(destination)
  return { id: `file:${path}`, open: (plan) => openFileSink(path, plan, options.fsync) }
}

async function openFileSink(path: string, plan: SinkPlan, fsync: boolean): Promise<DownloadSink> {
  const folder = await stat(dirname(path)).catch(() => undefined)
  if (folder === undefined || !folder.isDirectory()) {
    throw new ValetError('invalid_option', `download(): the folder of \`destination\` ${path} does not exist; create it first`, {
      context: { option: 'destination', owner: 'download()' },
    })
  }
  if ((await stat(path).catch(() => undefined))?.isDirectory() === true) {
    throw new ValetError('invalid_option', `download(): \`destination\` ${path} is a folder; pass the path of the file to write`, {
      context: { option: 'destination', owner: 'download()' },
    })
  }
  const partial = partialPath(path)
  const unlock = await lockDestination(path)
  let handle: FileHandle | undefined
  try {
    let resumed = false
    if (plan.resume) {
      handle = await open(partial, 'r+').catch(() => undefined)
      if (handle !== undefined && (await handle.stat()).size === plan.size) resumed = true
      else {
        await handle?.close()
        handle = undefined
      }
    }
    if (handle === undefined) {
      // The mode a new file gets (0666 less the umask), as curl or cp give it: it becomes the destination.
      handle = await open(partial, 'w+') // read back too: re-checks and the whole-object MD5
      await handle.truncate(plan.size)
    }
    return new FileSink(path, partial, handle, resumed, fsync, unlock)
  } catch (e) {
    await handle?.close().catch(() => {})
    await unlock()
    throw e
  }
}

class FileSink implements DownloadSink {
  private handle: FileHandle | undefined
  /** A flush to disk running in the background, started as ranges are committed. */
  private flushing: Promise<void> | undefined

  constructor(
    private readonly path: string,
    private readonly partial: string,
    handle: FileHandle,
    readonly resumed: boolean,
    private readonly fsync: boolean,
    /** Releases the destination's lock: the sink is done with the partial file. */
    private readonly unlock: () => Promise<void>,
  ) {
    this.handle = handle
  }

  private file(): FileHandle {
    if (this.handle === undefined) throw new ValetError('resume_failed', `the staging file ${this.partial} is closed`)
    return this.handle
  }

  async writer(start: number, end: number): Promise<RangeWriter> {
    const file = this.file()
    let at = start // where the next gathered batch goes
    let gathered: Uint8Array[] = []
    let gatheredBytes = 0
    let writing: Promise<void> = Promise.resolve()
    const writeOut = (): Promise<void> => {
      const batch = gathered
      const position = at
      at += gatheredBytes
      gathered = []
      gatheredBytes = 0
      const previous = writing
      writing = previous.then(() => writeAll(file, batch, position))
      return previous
    }
    return {
      // Socket chunks (64 KiB) are gathered and written 1 MiB at a time with one writev, while
      // the next MiB arrives: the GET waits only when the disk is a whole batch behind.
      write: (chunk) => {
        if (at + gatheredBytes + chunk.byteLength > end) throw new ValetError('checksum_mismatch', `more than the range's ${end - start} bytes`)
        gathered.push(chunk)
        gatheredBytes += chunk.byteLength
        return gatheredBytes >= WRITE_BATCH ? writeOut() : undefined
      },
      // The bytes are in the file (the page cache survives a killed process); what a power cut
      // loses, the next run's MD5 re-check of done ranges finds. With fsync, a flush starts in the
      // background so the disk keeps up while the network is busy, and the last one is short.
      commit: async () => {
        if (gatheredBytes > 0) void writeOut()
        await writing
        if (!this.fsync) return
        this.flushing ??= file.datasync().then(
          () => {
            this.flushing = undefined
          },
          () => {
            this.flushing = undefined
          },
        )
      },
      discard: async () => {
        gathered = []
        gatheredBytes = 0
        await writing.catch(() => {})
      },
    }
  }

  async *read(start: number, end: number): AsyncIterable<Uint8Array> {
    const file = this.file()
    const buffer = Buffer.allocUnsafe(Math.min(READ_STEP, Math.max(1, end - start)))
    for (let at = start; at < end; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, end - at), at)
      if (bytesRead === 0) throw new ValetError('resume_failed', `the staging file ${this.partial} ends before byte ${at}`)
      yield buffer.subarray(0, bytesRead)
      at += bytesRead
    }
  }

  async finish(): Promise<{ path: string }> {
    const file = this.file()
    await this.flushing
    // Renamed only once the bytes are on disk: after a power cut the destination is whole or absent.
    if (this.fsync) await file.sync()
    await file.close()
    this.handle = undefined
    await rename(this.partial, this.path)
    await this.unlock()
    return { path: this.path }
  }

  /** Lets the background flush end and closes the partial file (the lock stays). */
  private async closeFile(): Promise<void> {
    await this.flushing
    await this.handle?.close()
    this.handle = undefined
  }

  async close(): Promise<void> {
    await this.closeFile()
    await this.unlock()
  }

  async discard(): Promise<void> {
    await this.closeFile()
    // Removed while still locked: no other run can open it half-deleted.
    await rm(this.partial, { force: true })
    await this.unlock()
  }
}

