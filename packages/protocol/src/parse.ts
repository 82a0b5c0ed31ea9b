/**
 * Dependency-free parsers for every wire message. Each takes `unknown` (parsed JSON) and returns
 * a typed message or throws a `ValetError` whose message names the offending field.
 */
import { ValetError, isWireErrorCode, type ErrorBody } from './errors.js'
import {
  MAX_BATCH,
  MAX_METADATA_BYTES,
  MAX_NAME_LENGTH,
  MAX_SIGN_BATCH,
  REQUEST_ID_PATTERN,
  RESERVED_META_PREFIX,
  type BatchResult,
  type CompleteBatchItem,
  type CompleteBatchResponse,
  type CompleteUploadRequest,
  type CompleteUploadResponse,
  type CompletedPart,
  type CreateBatchResponse,
  type CreateUploadRequest,
  type CreateUploadResponse,
  type ListPartsResponse,
  type PartToSign,
  type SignPartsRequest,
  type SignPartsResponse,
  type SignedPart,
  type StoredPart,
} from './messages.js'

import { array, fail, integer, isoTime, md5, object, string, type Obj } from './parse-fields.js'

// Control characters, including DEL and the C1 range, never belong in names, headers or keys.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i
// Valid both as an S3 x-amz-meta-* suffix and as an Azure (C#) identifier.
const META_KEY = /^[a-z_][a-z0-9_]{0,63}$/
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

function metadata(value: unknown, field: string): Record<string, string> {
  const obj = object(value, field)
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [k, v] of Object.entries(obj)) {
    if (!META_KEY.test(k)) fail(`${field}.${k}`, 'must be a lowercase identifier ([a-z_][a-z0-9_]*, at most 64)')
    if (k.startsWith(RESERVED_META_PREFIX)) fail(`${field}.${k}`, `is reserved: keys starting with "${RESERVED_META_PREFIX}" are Valet's own`)
    if (typeof v !== 'string' || !PRINTABLE_ASCII.test(v)) fail(`${field}.${k}`, 'must be a string of printable ASCII')
    bytes += k.length + v.length
    out[k] = v
  }
  if (bytes > MAX_METADATA_BYTES) fail(field, `must be at most ${MAX_METADATA_BYTES} bytes in all`)
  return out
}

function partNumber(value: unknown, field: string): number {
  return integer(value, field, 1, 100_000)
}

function uniqueParts<T extends { partNumber: number }>(parts: T[], field: string): T[] {
  const seen = new Set<number>()
  for (const p of parts) {
    if (seen.has(p.partNumber)) fail(field, `lists part ${p.partNumber} twice`)
    seen.add(p.partNumber)
  }
  return parts
}

/** Normalizes a MIME type: empty means `application/octet-stream`. */
export function parseContentType(value: unknown, field = 'type'): string {
  if (value === undefined || value === '') return 'application/octet-stream'
  const s = string(value, field, 255)
  if (!MIME.test(s)) fail(field, 'must be a MIME type like "image/png"')
  return s.toLowerCase()
}

export function parseCreateUploadRequest(input: unknown): CreateUploadRequest {
  const o = object(input, 'body')
  const name = string(o.name, 'name', MAX_NAME_LENGTH)
  if (CONTROL.test(name)) fail('name', 'must not contain control characters')
  const out: CreateUploadRequest = {
    name,
    size: integer(o.size, 'size', 1),
    type: parseContentType(o.type),
  }
  if (o.lastModified !== undefined) out.lastModified = integer(o.lastModified, 'lastModified', 0)
  if (o.metadata !== undefined) out.metadata = metadata(o.metadata, 'metadata')
  if (o.partSize !== undefined) out.partSize = integer(o.partSize, 'partSize', 1)
  if (o.requestId !== undefined) out.requestId = requestId(o.requestId, 'requestId')
  if (o.md5 !== undefined) out.md5 = md5(o.md5, 'md5')
  return out
}

/** A create's idempotency id: it becomes part of an HMAC, never of a key or header, but stays strict. */
function requestId(value: unknown, field: string): string {
  const s = string(value, field, 128)
  if (!REQUEST_ID_PATTERN.test(s)) fail(field, 'must be 16–128 characters of A–Z, a–z, 0–9, "_" or "-"')
  return s
}

export function parseCreateUploadResponse(input: unknown): CreateUploadResponse {
  const o = object(input, 'response')
  return {
    uploadId: string(o.uploadId, 'uploadId', 2048),
    key: string(o.key, 'key', 2048),
    partSize: integer(o.partSize, 'partSize', 1),
    partCount: integer(o.partCount, 'partCount', 1),
    token: string(o.token, 'token', 16_384),
    expiresAt: isoTime(o.expiresAt, 'expiresAt'),
    ...(o.mode === 'single' ? { mode: 'single' as const } : {}),
    ...(o.parts === undefined ? {} : { parts: array(o.parts, 'parts', MAX_SIGN_BATCH).map(signedPart) }),
    ...(o.serverTime === undefined ? {} : { serverTime: isoTime(o.serverTime, 'serverTime') }),
  }
}

function partToSign(value: unknown, i: number): PartToSign {
  const o = object(value, `parts[${i}]`)
  return { partNumber: partNumber(o.partNumber, `parts[${i}].partNumber`), size: integer(o.size, `parts[${i}].size`, 1), md5: md5(o.md5, `parts[${i}].md5`) }
}

export function parseSignPartsRequest(input: unknown): SignPartsRequest {
  const o = object(input, 'body')
  const parts = array(o.parts, 'parts', MAX_SIGN_BATCH).map(partToSign)
  return { token: string(o.token, 'token', 16_384), parts: uniqueParts(parts, 'parts') }
}

function signedPart(value: unknown, i: number): SignedPart {
  const o = object(value, `parts[${i}]`)
  const headers = object(o.headers ?? {}, `parts[${i}].headers`)
  for (const [k, v] of Object.entries(headers)) if (typeof v !== 'string') fail(`parts[${i}].headers.${k}`, 'must be a string')
  if (o.method !== 'PUT') fail(`parts[${i}].method`, 'must be "PUT"')
  return {
    partNumber: partNumber(o.partNumber, `parts[${i}].partNumber`),
    url: string(o.url, `parts[${i}].url`, 16_384),
    method: 'PUT',
    headers: headers as Record<string, string>,
    expiresAt: isoTime(o.expiresAt, `parts[${i}].expiresAt`),
  }
}

export function parseSignPartsResponse(input: unknown): SignPartsResponse {
  const o = object(input, 'response')
  return { parts: array(o.parts, 'parts', MAX_SIGN_BATCH).map(signedPart), serverTime: isoTime(o.serverTime, 'serverTime') }
}

function storedPart(value: unknown, i: number): StoredPart {
  const o = object(value, `parts[${i}]`)
  return {
    partNumber: partNumber(o.partNumber, `parts[${i}].partNumber`),
    size: integer(o.size, `parts[${i}].size`, 0),
    etag: string(o.etag, `parts[${i}].etag`, 1024),
  }
}

export function parseListPartsResponse(input: unknown): ListPartsResponse {
  const o = object(input, 'response')
  return { parts: array(o.parts, 'parts', 100_000, 0).map(storedPart) }
}

function completedPart(value: unknown, i: number): CompletedPart {
  const o = object(value, `parts[${i}]`)
  return { partNumber: partNumber(o.partNumber, `parts[${i}].partNumber`), etag: string(o.etag, `parts[${i}].etag`, 1024) }
}

export function parseCompleteUploadRequest(input: unknown): CompleteUploadRequest {
  const o = object(input, 'body')
  const parts = array(o.parts, 'parts', 100_000).map(completedPart)
  return { token: string(o.token, 'token', 16_384), parts: uniqueParts(parts, 'parts') }
}

export function parseCompleteUploadResponse(input: unknown): CompleteUploadResponse {
  const o = object(input, 'response')
  const out: CompleteUploadResponse = {
    key: string(o.key, 'key', 2048),
    size: integer(o.size, 'size', 0),
    etag: string(o.etag, 'etag', 1024),
    location: string(o.location, 'location', 16_384),
  }
  if (o.result !== undefined) out.result = o.result
  return out
}

/** `POST /uploads/batch` body; each item is parsed when the server handles it, so one bad item fails alone. */
export function parseCreateBatchRequest(input: unknown): { uploads: unknown[] } {
  const o = object(input, 'body')
  return { uploads: array(o.uploads, 'uploads', MAX_BATCH) }
}

/** `POST /uploads/batch/complete` body; items are parsed one by one, like creates. */
export function parseCompleteBatchRequest(input: unknown): { uploads: unknown[] } {
  const o = object(input, 'body')
  return { uploads: array(o.uploads, 'uploads', MAX_BATCH) }
}

/** One item of a batch complete. */
export function parseCompleteBatchItem(input: unknown, i: number): CompleteBatchItem {
  const o = object(input, `uploads[${i}]`)
  return { uploadId: string(o.uploadId, `uploads[${i}].uploadId`, 2048), ...parseCompleteUploadRequest(o) }
}

function batchResults<T>(value: unknown, expected: number, parse: (body: unknown) => T): BatchResult<T>[] {
  const items = array(value, 'uploads', MAX_BATCH)
  if (items.length !== expected) fail('uploads', `has ${items.length} results for ${expected} requests`)
  return items.map((item, i) => {
    const o = object(item, `uploads[${i}]`)
    const status = integer(o.status, `uploads[${i}].status`, 100, 599)
    if (status < 300) return { status, body: parse(o.body) }
    const error = parseErrorBody(o.body)
    if (!error) fail(`uploads[${i}].body`, 'must be an error body for a failed item')
    return { status, body: error }
  })
}

/** `POST /uploads/batch` answer for `expected` creates. */
export function parseCreateBatchResponse(input: unknown, expected: number): CreateBatchResponse {
  const o = object(input, 'response')
  return { uploads: batchResults(o.uploads, expected, parseCreateUploadResponse), serverTime: isoTime(o.serverTime, 'serverTime') }
}

/** `POST /uploads/batch/complete` answer for `expected` completes. */
export function parseCompleteBatchResponse(input: unknown, expected: number): CompleteBatchResponse {
  const o = object(input, 'response')
  return { uploads: batchResults(o.uploads, expected, parseCompleteUploadResponse) }
}

/** Reads `{ error: { code, message } }`; returns `undefined` for anything else. */
export function parseErrorBody(input: unknown): ErrorBody | undefined {
  if (typeof input !== 'object' || input === null) return undefined
  const e = (input as Obj).error
  if (typeof e !== 'object' || e === null) return undefined
  const { code, message } = e as Obj
  if (!isWireErrorCode(code) || typeof message !== 'string') return undefined
  return { error: { code, message } }
}

/** Validates the upload token header value shape (the server verifies the signature). */
export function parseTokenHeader(value: string | null): string {
  if (value === null || value === '') throw new ValetError('token_invalid', 'missing valet-token header')
  return string(value, 'valet-token', 16_384)
}
