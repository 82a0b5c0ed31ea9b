import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from './hex.js'

describe('hex', () => {
  it('matches Node both ways and refuses what is not hex', () => {
    const bytes = Uint8Array.from({ length: 40 }, (_, i) => (i * 97 + 13) & 0xff)
    expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'))
    expect(fromHex(Buffer.from(bytes).toString('hex').toUpperCase())).toEqual(bytes)
    expect(fromHex('')).toEqual(new Uint8Array(0))
    for (const bad of ['abc', 'zz', '0x12', ' 12']) expect(fromHex(bad)).toBeUndefined()
  })
})
