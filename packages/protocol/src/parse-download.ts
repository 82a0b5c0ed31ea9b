/**
 * Parsers for the download messages (download-messages.ts): each takes `unknown` (parsed JSON)
 * and returns a typed message or throws a `ValetError('bad_request')` naming the field.
 */
import {
  MAX_READ_RANGES,
  type ByteRange,
  type DownloadIntegrity,
  type OpenDownloadRequest,
  type OpenDownloadResponse,
  type SignRangesRequest,
  type SignRangesResponse,
  type SignedRange,
} from './download-messages.js'
import { array, fail, integer, isoTime, md5, object, string } from './parse-fields.js'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

export function parseOpenDownloadRequest(input: unknown): OpenDownloadRequest {
  const o = object(input, 'body')
  const key = string(o.key, 'key', 1024)
  if (CONTROL.test(key)) fail('key', 'must not contain control characters')
  return { key }
}

function integrity(value: unknown): DownloadIntegrity {
  const o = object(value, 'integrity')
  if (o.kind === 'none') return { kind: 'none' }
  if (o.kind === 'md5') return { kind: 'md5', md5: md5(o.md5, 'integrity.md5') }
  if (o.kind !== 'parts') fail('integrity.kind', 'must be "parts", "md5" or "none"')
  const parts = array(o.parts, 'integrity.parts', 100_000).map((p, i) => {
    const part = object(p, `integrity.parts[${i}]`)
    const partNumber = integer(part.partNumber, `integrity.parts[${i}].partNumber`, i + 1, i + 1)
    return { partNumber, size: integer(part.size, `integrity.parts[${i}].size`, 1), md5: md5(part.md5, `integrity.parts[${i}].md5`) }
  })
  return { kind: 'parts', partSize: integer(o.partSize, 'integrity.partSize', 1), parts }
}

export function parseOpenDownloadResponse(input: unknown): OpenDownloadResponse {
  const o = object(input, 'response')
  return {
    key: string(o.key, 'key', 1024),
    size: integer(o.size, 'size', 0),
    etag: string(o.etag, 'etag', 1024),
    type: string(o.type, 'type', 255),
    token: string(o.token, 'token', 16_384),
    expiresAt: isoTime(o.expiresAt, 'expiresAt'),
    integrity: integrity(o.integrity),
  }
}

function byteRange(value: unknown, i: number): ByteRange {
  const o = object(value, `ranges[${i}]`)
  const start = integer(o.start, `ranges[${i}].start`, 0)
  const end = integer(o.end, `ranges[${i}].end`, 1)
  if (end <= start) fail(`ranges[${i}]`, `must have end > start (end is exclusive), got [${start}, ${end})`)
  return { start, end }
}

/** `POST /downloads/ranges` body. Ranges are checked against the object's size by the server. */
export function parseSignRangesRequest(input: unknown): SignRangesRequest {
  const o = object(input, 'body')
  const ranges = array(o.ranges, 'ranges', MAX_READ_RANGES).map(byteRange)
  return { token: string(o.token, 'token', 16_384), ranges }
}

function signedRange(value: unknown, i: number): SignedRange {
  const o = object(value, `ranges[${i}]`)
  const headers = object(o.headers ?? {}, `ranges[${i}].headers`)
  for (const [k, v] of Object.entries(headers)) if (typeof v !== 'string') fail(`ranges[${i}].headers.${k}`, 'must be a string')
  if (o.method !== 'GET') fail(`ranges[${i}].method`, 'must be "GET"')
  return {
    ...byteRange(o, i),
    url: string(o.url, `ranges[${i}].url`, 16_384),
    method: 'GET',
    headers: headers as Record<string, string>,
    expiresAt: isoTime(o.expiresAt, `ranges[${i}].expiresAt`),
  }
}

export function parseSignRangesResponse(input: unknown): SignRangesResponse {
  const o = object(input, 'response')
  return { ranges: array(o.ranges, 'ranges', MAX_READ_RANGES).map(signedRange), serverTime: isoTime(o.serverTime, 'serverTime') }
}
