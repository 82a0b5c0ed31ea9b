import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { testBytes } from '../testing/fake-valet.js'
import { md5InChunks, md5OfBlob, md5OfBytes, yieldToEventLoop } from './md5-of.js'
import { WHOLE_READ_MAX } from './read-steps.js'

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')
const live = new AbortController().signal

describe('md5 with spark-md5', () => {
  it('hashes bytes, views and ArrayBuffers like node:crypto (base64)', () => {
    const bytes = testBytes(100_003)
    expect(md5OfBytes(bytes)).toBe(md5(bytes))
    expect(md5OfBytes(bytes.subarray(17, 70_000))).toBe(md5(bytes.subarray(17, 70_000)))
    expect(md5OfBytes(bytes.slice().buffer)).toBe(md5(bytes))
    expect(md5OfBytes(new Uint8Array(0))).toBe(md5(new Uint8Array(0)))
  })

  it('hashes in chunks (the main-thread fallback) with the same result, for Blobs and bytes, any chunk size', async () => {
    const bytes = testBytes(300_001, 2)
    for (const chunk of [64, 4096, 65_537, 1 << 20]) {
      expect(await md5InChunks(new Blob([bytes]), live, chunk)).toBe(md5(bytes))
      expect(await md5InChunks(bytes, live, chunk)).toBe(md5(bytes))
    }
    expect(await md5InChunks(new Blob([]), live)).toBe(md5(new Uint8Array(0)))
  })

  it('reads a large Blob in steps in the worker path, small ones whole', async () => {
    const big = testBytes(WHOLE_READ_MAX + 12_345, 3)
    expect(await md5OfBlob(new Blob([big]))).toBe(md5(big))
    expect(await md5OfBlob(new Blob([big.subarray(0, 1000)]))).toBe(md5(big.subarray(0, 1000)))
  })

  it('stops with the signal between chunks', async () => {
    const controller = new AbortController()
    const reason = new Error('stop')
    const hashing = md5InChunks(testBytes(2 << 20), controller.signal, 64 * 1024)
    controller.abort(reason)
    await expect(hashing).rejects.toBe(reason)
  })

  it('yields to the event loop', async () => {
    let ran = false
    setTimeout(() => (ran = true), 0)
    for (let i = 0; i < 50 && !ran; i++) await yieldToEventLoop()
    expect(ran).toBe(true)
  })
})
