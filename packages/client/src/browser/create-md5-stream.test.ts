import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createMd5Stream, md5StreamEngine, sparkStream, wasmStream } from './create-md5-stream.js'

const data = Uint8Array.from({ length: 200_001 }, (_, i) => (i * 7) & 0xff)
const expected = createHash('md5').update(data).digest('base64')

describe('createMd5Stream', () => {
  it('uses hash-wasm where WebAssembly runs', async () => {
    expect(await md5StreamEngine()).toBe('hash-wasm')
    const md5 = await createMd5Stream()
    for (let at = 0; at < data.length; at += 65_536) md5.update(data.subarray(at, at + 65_536))
    expect(md5.digest()).toBe(expected)
  })

  for (const [name, make] of [['hash-wasm', wasmStream], ['spark-md5', sparkStream]] as const) {
    it(`${name}: base64 MD5 of views into larger buffers, streams independent`, async () => {
      const [a, b] = await Promise.all([make(), make()])
      const big = new Uint8Array(data.length + 20)
      big.set(data, 10)
      for (let at = 0; at < data.length; at += 4099) a.update(big.subarray(10 + at, 10 + Math.min(data.length, at + 4099)))
      b.update(new Uint8Array(0))
      expect(a.digest()).toBe(expected)
      expect(b.digest()).toBe(createHash('md5').digest('base64'))
    })
  }
})
