import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { checkObjectKey, defaultObjectKey, principalPrefix, safeSegment } from './object-key.js'

const utf8 = (s: string) => new TextEncoder().encode(s).length
const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

describe('principalPrefix', () => {
  it('is injective: distinct ids never share a prefix (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }), (a, b) => {
        fc.pre(a !== b)
        expect(principalPrefix(a)).not.toBe(principalPrefix(b))
      }),
      { numRuns: 3000 },
    )
  })

  it('is one safe segment, never "." or "..", and keeps plain ids as they are (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (id) => {
        const p = principalPrefix(id)
        expect(p).toMatch(/^[A-Za-z0-9_~-]+$/)
      }),
      { numRuns: 2000 },
    )
    expect(['user-42', 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff', 'Alice_B'].map(principalPrefix)).toEqual(['user-42', 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff', 'Alice_B'])
    expect(principalPrefix('alice@example.com')).toBe('alice~40example~2Ecom')
    expect(principalPrefix('~')).toBe('~7E')
  })

  it('refuses an id with no UTF-8 form', () => {
    expect(() => principalPrefix('a\uD800')).toThrow(/well-formed/)
  })
})

describe('safeSegment and defaultObjectKey', () => {
  it('never splits a surrogate pair, and fits S3 and Azure name limits (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (name) => {
        const s = safeSegment(name)
        expect(lone.test(s)).toBe(false)
        expect(utf8(s)).toBeLessThanOrEqual(512)
        expect([...s].length).toBeLessThanOrEqual(200)
        expect(s).not.toMatch(/^[.\s]|[.\s]$|[/\\]/)
        const key = defaultObjectKey({ principal: { id: name || 'x' }, file: { name, size: 1, type: '', metadata: {} }, uniqueId: '00000000-0000-4000-8000-000000000000' })
        expect(checkObjectKey(key), key).toBeUndefined()
      }),
      { numRuns: 2000 },
    )
  })

  it('cuts names beyond the BMP at whole code points', () => {
    const s = safeSegment('\u{1D49C}'.repeat(300)) // a letter outside the BMP: 4 bytes, 2 UTF-16 units
    expect([...s]).toHaveLength(128) // 512 bytes / 4
    expect(lone.test(s)).toBe(false)
  })
})

describe('checkObjectKey', () => {
  it.each([
    ['.valet/receipts/x', /\.valet/],
    ['a/b.', /end with/],
    ['a/\uDC00', /well-formed/],
    ['a/../b', /segments/],
    // Azure reads a backslash as a slash: these would land under .valet/ or climb out.
    ['.valet\\receipts\\x', /\.valet/],
    ['a\\..\\b', /segments/],
    ['\\a', /start with/],
  ])('refuses %s', (key, message) => {
    expect(checkObjectKey(key)).toMatch(message)
  })

  it('keeps a backslash inside a name', () => {
    expect(checkObjectKey('a/b\\c.txt')).toBeUndefined()
  })
})
