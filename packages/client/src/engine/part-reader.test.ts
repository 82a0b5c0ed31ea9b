import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { bytesSource } from '../sources/bytes-source.js'
import { nodeHasher } from '../node/node-hasher.js'
import { streamSource } from '../node/stream-source.js'
import { PartReader } from './part-reader.js'
import { testBytes } from '../testing/fake-valet.js'

const plan = { size: 1000, partSize: 100, partCount: 10 }
const signal = new AbortController().signal
const data = testBytes(1000)
const bytes = (b: unknown) => Buffer.from(b as Uint8Array)

describe('PartReader', () => {
  it('reads random-access parts on demand and hashes each once', async () => {
    const reader = new PartReader(bytesSource(data, 'x'), plan, nodeHasher, 2)
    expect(bytes(await reader.read(10, signal))).toEqual(bytes(data.subarray(900)))
    const first = reader.md5(3, signal)
    expect(reader.md5(3, signal)).toBe(first)
    expect(await first).toMatch(/^[A-Za-z0-9+/]{22}==$/)
    expect(reader.canReadAhead(10)).toBe(true)
  })

  it('keeps stream parts until released, and lets the window read ahead only within capacity', async () => {
    const reader = new PartReader(streamSource(Readable.from([Buffer.from(data)]), 1000, 's'), plan, nodeHasher, 3)
    expect(reader.canReadAhead(3)).toBe(true)
    expect(reader.canReadAhead(4)).toBe(false)
    expect(bytes(await reader.read(2, signal))).toEqual(bytes(data.subarray(100, 200))) // reads 1 and 2
    expect(bytes(await reader.read(1, signal))).toEqual(bytes(data.subarray(0, 100))) // kept
    expect(reader.canReadAhead(3)).toBe(true)
    expect(reader.canReadAhead(4)).toBe(false)
    reader.release(1)
    expect(reader.canReadAhead(4)).toBe(true)
    await expect(reader.read(1, signal)).rejects.toMatchObject({ code: 'invalid_source' })
  })

  it('does not lose stream bytes when a read is abandoned (pause)', async () => {
    const stream = new Readable({ read() {} })
    const reader = new PartReader(streamSource(stream, 1000, 's'), plan, nodeHasher, 3)
    const pause = new AbortController()
    const abandoned = reader.read(1, pause.signal)
    pause.abort(new Error('paused'))
    await expect(abandoned).rejects.toThrow('paused')
    stream.push(Buffer.from(data))
    stream.push(null)
    expect(bytes(await reader.read(1, signal))).toEqual(bytes(data.subarray(0, 100)))
    expect(bytes(await reader.read(2, signal))).toEqual(bytes(data.subarray(100, 200)))
  })
})
