import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isValetError } from './errors.js'
import {
  parseCompleteUploadRequest,
  parseCompleteUploadResponse,
  parseCreateUploadRequest,
  parseCreateUploadResponse,
  parseErrorBody,
  parseListPartsResponse,
  parseSignPartsRequest,
  parseSignPartsResponse,
} from './parse.js'

const md5 = '1B2M2Y8AsgTpgAmY7PhCfg=='

describe('parsers', () => {
  it('accepts well-formed messages and normalizes the type', () => {
    expect(parseCreateUploadRequest({ name: 'a.png', size: 3, type: '' })).toEqual({ name: 'a.png', size: 3, type: 'application/octet-stream' })
    expect(parseCreateUploadRequest({ name: 'a', size: 3, type: 'Image/PNG', metadata: { album: 'x' } }).type).toBe('image/png')
    expect(parseSignPartsRequest({ token: 't', parts: [{ partNumber: 1, size: 5, md5 }] }).parts).toHaveLength(1)
    expect(parseCompleteUploadRequest({ token: 't', parts: [{ partNumber: 1, etag: '"x"' }] }).parts[0]!.etag).toBe('"x"')
  })

  it('keeps a well-formed requestId, and only then', () => {
    const requestId = 'Zm9vYmFyYmF6cXV4-_0123'
    expect(parseCreateUploadRequest({ name: 'a', size: 1, requestId })).toEqual({ name: 'a', size: 1, type: 'application/octet-stream', requestId })
    expect(parseCreateUploadRequest({ name: 'a', size: 1 })).not.toHaveProperty('requestId')
    const error = (() => {
      try {
        parseCreateUploadRequest({ name: 'a', size: 1, requestId: 'a/b'.repeat(8) })
      } catch (e) {
        return e
      }
    })()
    expect(isValetError(error) && [error.code, error.status, error.context.field]).toEqual(['bad_request', 400, 'requestId'])
  })

  it.each([
    [{ name: '', size: 1 }, /name must not be empty/],
    [{ name: 'a', size: '1' }, /size must be an integer/],
    [{ name: 'a', size: 1, type: 'nope' }, /type must be a MIME type/],
    [{ name: 'a', size: 1, metadata: { 'Bad-Key': 'x' } }, /metadata.Bad-Key/],
    [{ name: 'a', size: 1, metadata: { k: 'é' } }, /printable ASCII/],
    [{ name: 'a', size: 1, metadata: { k: 'x'.repeat(3000) } }, /2048 bytes/],
    [{ name: 'a', size: 1, requestId: 'short' }, /requestId must be 16–128 characters/],
    [{ name: 'a', size: 1, requestId: 'has spaces in it, sadly' }, /requestId must be 16–128/],
    [{ name: 'a', size: 1, requestId: 'x'.repeat(129) }, /requestId must be at most 128/],
    [{ name: 'a', size: 1, requestId: 42 }, /requestId must be a string/],
    [[], /body must be an object/],
  ])('names the field at fault %#', (input, message) => {
    expect(() => parseCreateUploadRequest(input)).toThrow(message)
  })

  it('refuses duplicate parts, bad digests and oversized batches', () => {
    expect(() => parseSignPartsRequest({ token: 't', parts: [{ partNumber: 1, size: 5, md5 }, { partNumber: 1, size: 5, md5 }] })).toThrow(/twice/)
    expect(() => parseSignPartsRequest({ token: 't', parts: [{ partNumber: 1, size: 5, md5: 'abc' }] })).toThrow(/md5/)
    const many = Array.from({ length: 101 }, (_, i) => ({ partNumber: i + 1, size: 5, md5 }))
    expect(() => parseSignPartsRequest({ token: 't', parts: many })).toThrow(/at most 100/)
  })

  it('reads error bodies only when they carry a known code', () => {
    expect(parseErrorBody({ error: { code: 'forbidden', message: 'no' } })).toEqual({ error: { code: 'forbidden', message: 'no' } })
    expect(parseErrorBody({ error: { code: 'made_up', message: 'no' } })).toBeUndefined()
    expect(parseErrorBody('nope')).toBeUndefined()
  })

  const parsers = [
    parseCreateUploadRequest,
    parseCreateUploadResponse,
    parseSignPartsRequest,
    parseSignPartsResponse,
    parseListPartsResponse,
    parseCompleteUploadRequest,
    parseCompleteUploadResponse,
  ]

  it('never throws anything but a ValetError, whatever the JSON (property)', () => {
    // Bias generation towards the protocol's field names so parsers get past their first checks.
    const key = fc.constantFrom('name', 'size', 'type', 'metadata', 'token', 'parts', 'partNumber', 'md5', 'etag', 'url', 'method', 'headers', 'expiresAt', 'serverTime', 'uploadId', 'key', 'partSize', 'partCount', 'location', 'requestId', '__proto__', 'constructor')
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 6 })),
    })).node
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: parsers.length - 1 }), (input, i) => {
        try {
          parsers[i]!(input)
        } catch (error) {
          expect(isValetError(error)).toBe(true)
        }
      }),
      { numRuns: 3000 },
    )
  })
})
