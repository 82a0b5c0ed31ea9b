import type { Readable } from 'node:stream'
import { ValetError } from '@valet/protocol'
import type { FileSource } from '../ports.js'

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (typeof chunk === 'string') return Buffer.from(chunk)
  throw new ValetError('invalid_source', 'the stream must yield bytes (not an object-mode stream)')
}

/**
 * A `Readable` of known size. It hands out consecutive ranges once; the engine keeps unfinished
 * parts (at most `concurrency`). It has no identity, so it is never resumed after a restart:
 * the bytes are gone.
 */
export function streamSource(stream: Readable, size: number, name: string): FileSource<Uint8Array> {
  let iterator: AsyncIterator<unknown> | undefined
  let leftover: Buffer | undefined
  let position = 0

  const next = async (): Promise<Buffer | undefined> => {
    iterator ??= stream[Symbol.asyncIterator]()
    try {
      const r = await iterator.next()
      return r.done ? undefined : toBuffer(r.value)
    } catch (e) {
      throw new ValetError('invalid_source', `the stream failed: ${(e as Error).message}`, { cause: e })
    }
  }

  return {
    name,
    size,
    type: '',
    access: 'sequential',
    async read(start, end) {
      if (start !== position) throw new ValetError('invalid_source', `stream read at ${start}, but it is at ${position}`)
      const out = Buffer.allocUnsafe(end - start)
      let filled = 0
      while (filled < out.length) {
        const chunk = leftover ?? (await next())
        leftover = undefined
        if (chunk === undefined) throw new ValetError('invalid_source', `the stream ended after ${start + filled} bytes, but size is ${size}`)
        const take = Math.min(chunk.length, out.length - filled)
        chunk.copy(out, filled, 0, take)
        filled += take
        if (take < chunk.length) leftover = chunk.subarray(take)
      }
      position = end
      // Uploading a prefix of a longer stream would store a truncated object as if complete.
      if (end === size) {
        let extra = leftover ?? (await next())
        while (extra !== undefined && extra.length === 0) extra = await next()
        if (extra !== undefined) throw new ValetError('invalid_source', `the stream is longer than size (${size} bytes)`)
      }
      return out
    },
    async identity() {
      return undefined
    },
    async close() {},
  }
}
