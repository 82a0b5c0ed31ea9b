/** The valet key for S3: a presigned UploadPart URL bound to one part's length and MD5. */
import { AwsV4Signer } from 'aws4fetch'
import type { SignedPart } from '@valet/protocol'
import type { SignPartInput } from '../storage.js'
import { objectUrl } from './object-url.js'
import type { ResolvedS3Options } from './s3-options.js'

/** SigV4 query auth refuses anything longer than 7 days. */
export const MAX_PRESIGN_SECONDS = 604_800

/**
 * Presigns `PUT ?partNumber=N&uploadId=ID` with SigV4 query auth. The signed headers are
 * `content-length;content-md5;host`, so storage refuses a body of any other size or content
 * (SignatureDoesNotMatch / BadDigest) and the URL cannot be replayed for another part or upload.
 *
 * The signing time is `now` truncated to the second (the resolution of `X-Amz-Date`), and
 * `X-Amz-Expires` = ceil((expiresAt - signing time) / 1 s), clamped to [1, 604800]. The returned
 * `expiresAt` is the instant storage really stops accepting the key: never before the requested
 * one (unless clamped) and less than a second after it.
 */
export async function presignPart(options: ResolvedS3Options, input: SignPartInput, now: number = Date.now()): Promise<SignedPart> {
  const signedAt = Math.floor(now / 1000) * 1000
  const wanted = Math.ceil((input.expiresAt.getTime() - signedAt) / 1000)
  const expires = Number.isFinite(wanted) ? Math.min(MAX_PRESIGN_SECONDS, Math.max(1, wanted)) : 1

  const url = objectUrl(options, input.key)
  url.searchParams.set('partNumber', String(input.partNumber))
  url.searchParams.set('uploadId', input.uploadId)
  // aws4fetch computes the canonical query in its constructor and adds a default
  // `X-Amz-Expires=86400` when it is missing: it must be on the URL before `new AwsV4Signer`.
  url.searchParams.set('X-Amz-Expires', String(expires))

  const signer = new AwsV4Signer({
    method: 'PUT',
    url: url.toString(),
    // content-length is on aws4fetch's "unsignable" list; allHeaders signs it. Nothing else is
    // in here, so the signed set is exactly content-length;content-md5;host. No
    // x-amz-content-sha256 header is added in query mode: the payload is UNSIGNED-PAYLOAD,
    // which a browser can honour (it cannot hash a multi-MiB body before sending).
    headers: { 'content-length': String(input.size), 'content-md5': input.md5 },
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
  return {
    partNumber: input.partNumber,
    url: signed.url.toString(),
    method: 'PUT',
    // Content-Length is not listed: browsers refuse to set it and send the body's exact length,
    // which must therefore be `size` bytes.
    headers: { 'Content-MD5': input.md5 },
    expiresAt: new Date(signedAt + expires * 1000).toISOString(),
  }
}
