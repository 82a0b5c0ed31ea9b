/**
 * A part of a file on disk that is never held in memory as a whole: hashed and sent by reading
 * its range again in small chunks, so memory does not grow with the part size and no single
 * task blocks the event loop for a whole part.
 */
import type { FileHandle } from 'node:fs/promises'
import { ValetError } from '@valet/protocol'

/** Read size for hashing: big enough for few syscalls, small enough to keep each hash step short. */
export const CHUNK = 1024 * 1024

export function fileChanged(path: string, detail: string): ValetError {
  return new ValetError('invalid_source', `${path} changed during the upload: ${detail}`, { context: { path } })
}

export class FileRange {
  constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly start: number,
    readonly end: number,
    readonly fileSize: number,
  ) {}

  get size(): number {
    return this.end - this.start
  }

  /**
   * The range's bytes in chunks of at most `chunk` bytes. With `scratch`, every chunk is read
   * into that one buffer (the caller must be done with a chunk before asking for the next);
   * without, each chunk is its own buffer, as a socket may still hold the previous one.
   */
  async *chunks(signal?: AbortSignal, scratch?: Buffer, chunk = CHUNK): AsyncGenerator<Buffer> {
    for (let at = this.start; at < this.end; ) {
      if (signal?.aborted) throw signal.reason
      const want = Math.min(chunk, this.end - at)
      const buffer = scratch !== undefined && scratch.length >= want ? scratch : Buffer.allocUnsafe(want)
      yield await this.readInto(buffer, at, want)
      at += want
    }
  }

  /** Bytes [at, at + want) of the file into the start of `buffer`; the filled view. */
  async readInto(buffer: Buffer, at: number, want: number): Promise<Buffer> {
    let filled = 0
    while (filled < want) {
      const { bytesRead } = await this.handle.read(buffer, filled, want - filled, at + filled)
      // A shorter file must fail the part with a typed error: a body that ends early would
      // leave storage waiting for the promised Content-Length.
      if (bytesRead === 0) throw fileChanged(this.path, `it ended before byte ${at + filled} of ${this.fileSize}`)
      filled += bytesRead
    }
    return buffer.subarray(0, want)
  }
}

/** A part as Node's sources hand it out: a range of a file on disk, or bytes in memory. */
export type NodeBody = FileRange | Uint8Array
