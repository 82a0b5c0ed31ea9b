import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isValetError } from './errors.js'
import { parseOpenDownloadRequest, parseOpenDownloadResponse, parseSignRangesRequest, parseSignRangesResponse } from './parse-download.js'

const md5 = '1B2M2Y8AsgTpgAmY7PhCfg=='
const fieldOf = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return isValetError(e) ? `${e.code}:${String(e.context.field)}` : 'other'
  }
  return 'ok'
}

describe('download parsers', () => {
  it('open: a key without control characters; the answer with each integrity kind', () => {
    expect(parseOpenDownloadRequest({ key: 'a/b c.bin' })).toEqual({ key: 'a/b c.bin' })
    expect(fieldOf(() => parseOpenDownloadRequest({ key: 'a\nb' }))).toBe('bad_request:key')
    expect(fieldOf(() => parseOpenDownloadRequest({ key: '' }))).toBe('bad_request:key')
    const answer = { key: 'k', size: 15, etag: '"e"', type: 'video/mp4', token: 'd1.x.y', expiresAt: '2030-01-01T00:00:00Z' }
    const parts = { kind: 'parts', partSize: 10, parts: [{ partNumber: 1, size: 10, md5 }, { partNumber: 2, size: 5, md5 }] }
    expect(parseOpenDownloadResponse({ ...answer, integrity: parts }).integrity).toEqual(parts)
    expect(parseOpenDownloadResponse({ ...answer, integrity: { kind: 'md5', md5 } }).integrity).toEqual({ kind: 'md5', md5 })
    expect(parseOpenDownloadResponse({ ...answer, integrity: { kind: 'none' } }).integrity).toEqual({ kind: 'none' })
    expect(fieldOf(() => parseOpenDownloadResponse({ ...answer, integrity: { kind: 'sha1' } }))).toBe('bad_request:integrity.kind')
    const gap = { ...parts, parts: [parts.parts[1]] }
    expect(fieldOf(() => parseOpenDownloadResponse({ ...answer, integrity: gap }))).toBe('bad_request:integrity.parts[0].partNumber')
  })

  it('ranges: 1–100, integers, end exclusive and after start', () => {
    expect(parseSignRangesRequest({ token: 't', ranges: [{ start: 0, end: 1 }] })).toEqual({ token: 't', ranges: [{ start: 0, end: 1 }] })
    expect(fieldOf(() => parseSignRangesRequest({ token: 't', ranges: [] }))).toBe('bad_request:ranges')
    expect(fieldOf(() => parseSignRangesRequest({ token: 't', ranges: Array(101).fill({ start: 0, end: 1 }) }))).toBe('bad_request:ranges')
    expect(fieldOf(() => parseSignRangesRequest({ token: 't', ranges: [{ start: 3, end: 3 }] }))).toBe('bad_request:ranges[0]')
    expect(fieldOf(() => parseSignRangesRequest({ token: 't', ranges: [{ start: -1, end: 3 }] }))).toBe('bad_request:ranges[0].start')
    const key = { start: 0, end: 10, url: 'https://s/k', method: 'GET', headers: { Range: 'bytes=0-9' }, expiresAt: '2030-01-01T00:00:00Z' }
    expect(parseSignRangesResponse({ ranges: [key], serverTime: '2030-01-01T00:00:00Z' }).ranges[0]).toEqual(key)
    expect(fieldOf(() => parseSignRangesResponse({ ranges: [{ ...key, method: 'PUT' }], serverTime: '2030-01-01T00:00:00Z' }))).toBe('bad_request:ranges[0].method')
  })

  it('never throws anything but a ValetError, whatever the JSON (property)', () => {
    const parsers = [parseOpenDownloadRequest, parseOpenDownloadResponse, parseSignRangesRequest, parseSignRangesResponse]
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const parse of parsers) expect(fieldOf(() => parse(value))).not.toBe('other')
      }),
      { numRuns: 300 },
    )
  })
})
