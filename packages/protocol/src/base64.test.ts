import { describe, expect, it } from 'vitest'
import { toBase64, toBase64Url } from './base64.js'

describe('base64', () => {
  it('matches Node for every length around a block boundary, in both alphabets', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff)
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'))
      expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'))
    }
  })
})
