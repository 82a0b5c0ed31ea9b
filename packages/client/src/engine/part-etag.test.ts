import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base64ToHex } from '@valet/protocol'
import { partEtagFromResponse, storedPartMatches } from './part-etag.js'

const body = Buffer.from('hello valet')
const md5 = createHash('md5').update(body).digest('base64')
const hex = createHash('md5').update(body).digest('hex')

describe('partEtagFromResponse', () => {
  it('accepts an S3 ETag equal to our MD5, as storage sent it', () => {
    expect(base64ToHex(md5)).toBe(hex)
    expect(partEtagFromResponse({ etag: `"${hex}"` }, md5)).toBe(`"${hex}"`)
    expect(partEtagFromResponse({ etag: `W/"${hex.toUpperCase()}"` }, md5)).toBe(`W/"${hex.toUpperCase()}"`)
  })

  it('rejects an MD5-shaped ETag that is not ours with checksum_mismatch', () => {
    expect(() => partEtagFromResponse({ etag: '"00000000000000000000000000000000"' }, md5)).toThrow(expect.objectContaining({ code: 'checksum_mismatch' }))
  })

  it('passes ETags that are not MD5s (encrypted objects, other stores) through unchecked', () => {
    expect(partEtagFromResponse({ etag: '"0x8DC1A2B3C4D5E6F"' }, md5)).toBe('"0x8DC1A2B3C4D5E6F"')
  })

  it('uses Content-MD5 when there is no ETag (Azure Put Block), and checks it', () => {
    expect(partEtagFromResponse({ 'content-md5': md5 }, md5)).toBe(md5)
    expect(() => partEtagFromResponse({ 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, md5)).toThrow(expect.objectContaining({ code: 'checksum_mismatch' }))
  })

  it('uses our MD5 for an Azure answer with neither header (Azurite verifies Content-MD5 but does not echo it)', () => {
    expect(partEtagFromResponse({ 'x-ms-request-server-encrypted': 'true', 'x-ms-request-id': 'r' }, md5)).toBe(md5)
  })

  it('fails with storage_rejected and a CORS hint when neither header is visible', () => {
    expect(() => partEtagFromResponse({}, md5)).toThrow(expect.objectContaining({ code: 'storage_rejected', message: expect.stringContaining('CORS') }))
  })
})

describe('storedPartMatches', () => {
  it('matches hex (quoted or not) and base64 etags of our MD5 only', () => {
    expect(storedPartMatches(`"${hex}"`, md5)).toBe(true)
    expect(storedPartMatches(hex, md5)).toBe(true)
    expect(storedPartMatches(md5, md5)).toBe(true)
    expect(storedPartMatches('"ffffffffffffffffffffffffffffffff"', md5)).toBe(false)
    expect(storedPartMatches('"0x8DC1A2B3C4D5E6F"', md5)).toBe(false) // can't verify: upload again
  })
})
