import { createHash } from 'node:crypto'
import type { Hasher } from '../ports.js'
import { CHUNK, FileRange, type NodeBody } from './file-range.js'

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * MD5 with node:crypto (~620 MiB/s on one core here; spark-md5 manages a third of that), one
 * chunk at a time: a whole part in one `update` held the event loop for up to 400 ms under load.
 */
export const nodeHasher: Hasher<NodeBody> = {
  async md5(body, signal) {
    const hash = createHash('md5')
    if (body instanceof FileRange) {
      // One scratch buffer per part: each read waits on the thread pool, which is the yield.
      const scratch = Buffer.allocUnsafe(Math.min(CHUNK, body.size))
      for await (const chunk of body.chunks(signal, scratch)) hash.update(chunk)
      return hash.digest('base64')
    }
    for (let at = 0; at < body.byteLength; at += CHUNK) {
      if (at > 0) {
        await nextTurn()
        if (signal.aborted) throw signal.reason
      }
      hash.update(body.subarray(at, at + CHUNK))
    }
    return hash.digest('base64')
  },
}
