/**
 * Valet keys for S3, the one home of SigV4 presigning: PUT URLs bound to a length, an MD5 and
 * whatever headers apply, and GET URLs bound to a range of one object version.
 */
import { AwsV4Signer } from 'aws4fetch'
import type { SignedPart, SignedRange } from '@valet/protocol'
import type { SignObjectInput, SignPartInput, SignReadInput } from '../storage.js'
import { objectUrl } from './object-url.js'
import type { ResolvedS3Options } from './s3-options.js'

/** SigV4 query auth refuses anything longer than 7 days. */
export const MAX_PRESIGN_SECONDS = 604_800

/**
 * Presigns `method` on `url` with SigV4 query auth. Every header in `headers` is signed (with
 * `host`), so the URL cannot be replayed with other headers; a PUT also signs `content-length`
 * (`size`), so storage refuses a body of any other size or content (SignatureDoesNotMatch /
 * BadDigest).
 *
 * The signing time is `now` truncated to the second (the resolution of `X-Amz-Date`), and
 * `X-Amz-Expires` = ceil((expiresAt - signing time) / 1 s), clamped to [1, 604800]. The returned
 * `expiresAt` is the instant storage really stops accepting the key: never before the requested
 * one (unless clamped) and less than a second after it.
 */
async function presign(
  method: 'PUT' | 'GET',
  options: ResolvedS3Options,
  url: URL,
  size: number | undefined,
  headers: Record<string, string>,
  expiresAt: Date,
  now: number,
): Promise<{ url: string; expiresAt: string }> {
  const signedAt = Math.floor(now / 1000) * 1000
  const wanted = Math.ceil((expiresAt.getTime() - signedAt) / 1000)
  const expires = Number.isFinite(wanted) ? Math.min(MAX_PRESIGN_SECONDS, Math.max(1, wanted)) : 1
  // aws4fetch computes the canonical query in its constructor and adds a default
  // `X-Amz-Expires=86400` when it is missing: it must be on the URL before `new AwsV4Signer`.
  url.searchParams.set('X-Amz-Expires', String(expires))
  const signer = new AwsV4Signer({
    method,
    url: url.toString(),
    // content-length is on aws4fetch's "unsignable" list; allHeaders signs it, and every other
    // header given. No x-amz-content-sha256 header is added in query mode: the payload is
    // UNSIGNED-PAYLOAD, which a browser can honour (it cannot hash a multi-MiB body first).
    headers: { ...(size === undefined ? {} : { 'content-length': String(size) }), ...lowerCased(headers) },
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    sessionToken: options.sessionToken,
    service: 's3',
    region: options.region,
    datetime: new Date(signedAt).toISOString().replace(/[:-]|\.\d{3}/g, ''),
    signQuery: true,
    allHeaders: true,
  })
  const signed = await signer.sign()
  return { url: signed.url.toString(), expiresAt: new Date(signedAt + expires * 1000).toISOString() }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
}

/**
 * Presigns `PUT ?partNumber=N&uploadId=ID`, signed headers `content-length;content-md5;host`:
 * one part of one upload, of one size and MD5.
 */
export async function presignPart(options: ResolvedS3Options, input: SignPartInput, now: number = Date.now()): Promise<SignedPart> {
  const url = objectUrl(options, input.key)
  url.searchParams.set('partNumber', String(input.partNumber))
  url.searchParams.set('uploadId', input.uploadId)
  // Content-Length is not listed: browsers refuse to set it and send the body's exact length,
  // which must therefore be `size` bytes.
  const headers = { 'Content-MD5': input.md5 }
  const signed = await presign('PUT', options, url, input.size, headers, input.expiresAt, now)
  return { partNumber: input.partNumber, url: signed.url, method: 'PUT', headers, expiresAt: signed.expiresAt }
}

/**
 * Presigns a PutObject of the whole object (a single-PUT upload), as part 1: size, MD5, type,
 * disposition and every metadata header are signed, so the PUT can store exactly the object
 * complete expects and nothing else; `If-None-Match: *` too where the store honours it, so it
 * never replaces an object.
 */
export async function presignObject(options: ResolvedS3Options, input: SignObjectInput, conditional: boolean, now: number = Date.now()): Promise<SignedPart> {
  const headers: Record<string, string> = { 'Content-MD5': input.md5, 'Content-Type': input.type }
  if (input.disposition !== undefined) headers['Content-Disposition'] = input.disposition
  for (const [name, value] of Object.entries(input.metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value
  if (conditional) headers['If-None-Match'] = '*'
  const signed = await presign('PUT', options, objectUrl(options, input.key), input.size, headers, input.expiresAt, now)
  return { partNumber: 1, url: signed.url, method: 'PUT', headers, expiresAt: signed.expiresAt }
}

/**
 * Presigns GetObject of bytes `[start, end)` of the object version `etag`: signed headers
 * `host;if-match;range`, so the URL reads only that range (another `Range` breaks the
 * signature, none at all too) of that object (a replaced object answers 412 Precondition
 * Failed), and nothing else: another key, a listing or a write is another request, unsigned.
 */
export async function presignRead(options: ResolvedS3Options, input: SignReadInput, now: number = Date.now()): Promise<SignedRange> {
  const headers = { Range: `bytes=${input.start}-${input.end - 1}`, 'If-Match': input.etag }
  const signed = await presign('GET', options, objectUrl(options, input.key), undefined, headers, input.expiresAt, now)
  return { start: input.start, end: input.end, url: signed.url, method: 'GET', headers, expiresAt: signed.expiresAt }
}
