/** Reading objects back from S3: what a commit left, and whether an upload is still open. */
import { ValetError, bareEtag, fromHex, sameEtag, toBase64 } from '@valet/protocol'
import { multipartEtag } from '../multipart-etag.js'
import type { CommitRef, StoredObject, UploadRef, UploadState } from '../storage.js'
import { objectUrl } from './object-url.js'
import { S3Client, storageError, type S3Response } from './s3-client.js'
import type { ResolvedS3Options } from './s3-options.js'

export function malformed(res: S3Response, what: string): ValetError {
  return new ValetError('storage_error', `S3 ${res.operation} failed: unexpected answer (${what})`, {
    context: { operation: res.operation, status: res.status, s3Code: undefined },
  })
}

export function uploadNotFound(uploadId: string, res: S3Response): ValetError {
  return new ValetError('upload_not_found', `upload ${uploadId} does not exist (completed, aborted or expired)`, {
    context: { operation: res.operation, status: res.status, s3Code: res.error?.code },
  })
}

/** The object a HEAD describes; `x-amz-meta-*` keys as the user metadata. */
function describe(options: ResolvedS3Options, key: string, head: S3Response): StoredObject {
  const size = Number(head.headers.get('content-length'))
  if (!Number.isSafeInteger(size) || size < 0) throw malformed(head, 'no Content-Length')
  const metadata: Record<string, string> = {}
  head.headers.forEach((value, name) => {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value
  })
  const etag = head.headers.get('etag') ?? ''
  // A single PUT's ETag is the hex MD5 of its bytes (SSE-S3 or none); multipart ETags end in -N,
  // and under SSE-KMS/SSE-C an ETag is no MD5 at all.
  const sse = head.headers.get('x-amz-server-side-encryption') ?? ''
  const customerKey = head.headers.has('x-amz-server-side-encryption-customer-algorithm')
  const plain = !sse.startsWith('aws:kms') && !customerKey
  const hex = plain && /^[0-9a-f]{32}$/i.test(bareEtag(etag)) ? fromHex(bareEtag(etag)) : undefined
  return {
    etag,
    ...(hex ? { md5: toBase64(hex) } : {}),
    ...(plain ? {} : { encrypted: true }),
    size,
    location: objectUrl(options, key).toString(),
    type: head.headers.get('content-type') ?? undefined,
    disposition: head.headers.get('content-disposition') ?? undefined,
    metadata,
  }
}

export async function statObject(client: S3Client, options: ResolvedS3Options, key: string, signal?: AbortSignal): Promise<StoredObject | undefined> {
  const head = await client.send({ operation: 'HeadObject', method: 'HEAD', key, signal })
  if (head.status === 404) return undefined
  if (!head.ok) throw storageError(head)
  return describe(options, key, head)
}

/**
 * The object at the key, if it is this upload's commit of exactly these parts: S3 gives a
 * multipart object the MD5 of its parts' MD5s as ETag, which no other content has. Where part
 * ETags are not MD5s (SSE-KMS), the size must do: keys are unique per upload.
 */
export async function findCommitted(client: S3Client, options: ResolvedS3Options, ref: CommitRef): Promise<StoredObject | undefined> {
  const object = await statObject(client, options, ref.key, ref.signal)
  if (object === undefined) return undefined
  const expected = multipartEtag(ref.parts.map((p) => p.etag))
  const ours = expected === undefined ? !/^[0-9a-f]{32}(-\d+)?$/i.test(bareEtag(object.etag)) : sameEtag(object.etag, expected)
  if (!ours) {
    throw new ValetError('object_exists', `an object already exists at ${ref.key} and Valet never overwrites one`, {
      context: { key: ref.key, etag: object.etag },
    })
  }
  return object
}

/**
 * `completed` once an object is at the key (AWS also forgets the upload; Swift s3api keeps
 * answering for it through the object, so the object is what counts), `aborted` once storage no
 * longer knows the upload id. Both requests at once: one round trip.
 */
export async function uploadState(client: S3Client, ref: UploadRef): Promise<UploadState> {
  const [head, parts] = await Promise.all([
    client.send({ operation: 'HeadObject', method: 'HEAD', key: ref.key, signal: ref.signal }),
    client.send({ operation: 'ListParts', method: 'GET', key: ref.key, query: { uploadId: ref.uploadId, 'max-parts': '1' }, signal: ref.signal }),
  ])
  if (head.ok) return 'completed'
  if (head.status !== 404) throw storageError(head)
  if (parts.error?.code === 'NoSuchUpload') return 'aborted'
  if (!parts.ok) throw storageError(parts)
  return 'open'
}
