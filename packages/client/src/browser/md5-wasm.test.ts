import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { testBytes } from '../testing/fake-valet.js'
import { loadWasmMd5 } from './md5-wasm.js'

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')

describe('WebAssembly MD5 (hash-wasm)', () => {
  it('gives the Content-MD5 (base64) of bytes and of Blobs read whole or in steps', async () => {
    const wasm = await loadWasmMd5()
    expect(wasm).toBeDefined()
    const small = testBytes(1 << 20, 3)
    const large = testBytes((17 << 20) + 5, 4)
    expect(await wasm!.bytes(small.slice().buffer)).toBe(md5(small))
    expect(await wasm!.blob(new Blob([small]))).toBe(md5(small))
    // Over the whole-read limit: 4 MiB steps, and a short last one.
    expect(await wasm!.blob(new Blob([large]))).toBe(md5(large))
    expect(await wasm!.blob(new Blob([]))).toBe(md5(new Uint8Array(0)))
  })

  it('keeps concurrent hashes apart (an aborted hash may still be reading when the next starts)', async () => {
    const wasm = (await loadWasmMd5())!
    const parts = [1, 2, 3, 4].map((seed) => testBytes((5 << 20) + seed, seed))
    const results = await Promise.all(parts.map((p) => wasm.blob(new Blob([p]))))
    expect(results).toEqual(parts.map(md5))
  })

  it('compiles once per worker', async () => {
    expect(loadWasmMd5()).toBe(loadWasmMd5())
  })
})
