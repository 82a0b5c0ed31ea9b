import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { MARKER_BODY, MARKER_MD5, MAX_PART_NUMBER, belongsTo, decodeBlockId, encodeBlockId, markerBlockId, md5FromEtag } from './block-id.js'

const UPLOAD = '0f8fad5b-d9cb-469f-a165-70867728950e'
const MD5 = createHash('md5').update('hello').digest('base64') // XUFAKrxLKna5cZ2REBfFkg==
const rawLength = (id: string) => atob(id).length

describe('block ids', () => {
  it('are 63 bytes before encoding (≤ 64), whatever the part number', () => {
    for (const n of [1, 9, 10_000, MAX_PART_NUMBER]) {
      const id = encodeBlockId(UPLOAD, n, MD5)
      expect(rawLength(id)).toBe(63)
      expect(id).toHaveLength(84)
      expect(id).not.toContain('=')
    }
  })

  it('are readable and round-trip', () => {
    const id = encodeBlockId(UPLOAD, 7, MD5)
    expect(atob(id)).toBe(`00007.0f8fad5bd9cb469fa16570867728950e.${MD5}`)
    const decoded = decodeBlockId(id)!
    expect(decoded).toEqual({ partNumber: 7, uploadHex: '0f8fad5bd9cb469fa16570867728950e', md5: MD5 })
    expect(belongsTo(decoded, UPLOAD)).toBe(true)
    expect(belongsTo(decoded, '1f8fad5b-d9cb-469f-a165-70867728950e')).toBe(false)
  })

  it('round-trip for any upload, part and MD5 (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1, max: MAX_PART_NUMBER }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (uuid, n, digest) => {
        const md5 = btoa(String.fromCharCode(...digest))
        const id = encodeBlockId(uuid, n, md5)
        expect(rawLength(id)).toBe(63)
        const d = decodeBlockId(id)
        expect(d?.partNumber).toBe(n)
        expect(d?.md5).toBe(md5)
        expect(belongsTo(d!, uuid)).toBe(true)
      }),
    )
  })

  it('refuse what they cannot encode, with typed errors', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return isValetError(e) ? e.code : 'other'
      }
      return 'none'
    }
    expect(code(() => encodeBlockId('not-a-uuid', 1, MD5))).toBe('upload_not_found')
    expect(code(() => encodeBlockId(UPLOAD, 0, MD5))).toBe('invalid_part')
    expect(code(() => encodeBlockId(UPLOAD, MAX_PART_NUMBER + 1, MD5))).toBe('invalid_part')
    expect(code(() => encodeBlockId(UPLOAD, 1.5, MD5))).toBe('invalid_part')
    expect(code(() => encodeBlockId(UPLOAD, 1, 'abc'))).toBe('invalid_part')
  })

  it('ignore blocks written by anything else', () => {
    expect(decodeBlockId(btoa('block-000001'))).toBeUndefined()
    expect(decodeBlockId(btoa(`00000.0f8fad5bd9cb469fa16570867728950e.${MD5}`))).toBeUndefined()
    expect(decodeBlockId('%%%not base64')).toBeUndefined()
    expect(decodeBlockId('')).toBeUndefined()
  })
})

describe('markerBlockId', () => {
  it('has the length of every part id, its body’s MD5, and is never read as a part', () => {
    expect(MARKER_MD5).toBe(createHash('md5').update(MARKER_BODY).digest('base64'))
    const id = markerBlockId(UPLOAD)
    expect(rawLength(id)).toBe(63)
    expect(atob(id)).toBe(`00000.0f8fad5bd9cb469fa16570867728950e.${MARKER_MD5}`)
    expect(decodeBlockId(id)).toBeUndefined()
    expect(markerBlockId('1f8fad5b-d9cb-469f-a165-70867728950e')).not.toBe(id)
  })
})

describe('md5FromEtag', () => {
  const hex = createHash('md5').update('hello').digest('hex')
  it('accepts the base64 Content-MD5 form, quoted or not', () => {
    expect(md5FromEtag(MD5)).toBe(MD5)
    expect(md5FromEtag(`"${MD5}"`)).toBe(MD5)
  })
  it('converts 32 hex digits (S3 habit) to base64', () => {
    expect(md5FromEtag(hex)).toBe(MD5)
    expect(md5FromEtag(`"${hex.toUpperCase()}"`)).toBe(MD5)
  })
  it('rejects anything else', () => {
    for (const bad of ['', '"', '0x8DC0', `${hex}-2`, '"0x8DC1234567890AB"', MD5.slice(1)]) expect(md5FromEtag(bad)).toBeUndefined()
  })
})
