/**
 * @module @valet/server/s3 — the storage provider for AWS S3 and S3-compatibles (Swift s3api,
 * MinIO, R2, GCS XML API): multipart uploads whose parts are sent straight to the bucket
 * through presigned UploadPart URLs, committed write-once.
 */
import { ValetError, bareEtag, s3Limits, type StoredPart } from '@valet/protocol'
import type { StorageLimits, StorageProvider } from '../storage.js'
import { presignObject, presignPart, presignRead } from './presign-part.js'
import { S3Client, storageError } from './s3-client.js'
import { findCommitted, malformed, statObject, uploadNotFound, uploadState } from './s3-objects.js'
import { normalizeS3Options, type S3Options } from './s3-options.js'
import { s3Records } from './s3-records.js'
import { MAX_LIST_PAGES, countOpenUploads, findUploads } from './s3-uploads.js'
import { escapeXml, xmlElements, xmlText } from './s3-xml.js'

export type { S3Credentials, S3Options } from './s3-options.js'

/**
 * S3's multipart rules, and metadata that every S3-compatible here stores: AWS takes 2 KiB of
 * user metadata; Swift s3api refuses values over 256 bytes and more than 90 keys, and on ext4
 * its object server keeps name and metadata in about 4 KiB of extended attributes — beyond
 * that it fails with ENOSPC and the proxy error-limits the node, so the whole store answers 503
 * for a minute (measured: 32 keys of 56 bytes did it). 16 keys and 1,536 bytes leave room for a
 * 512-byte name and Valet's own keys.
 */
export const s3StorageLimits: StorageLimits = { ...s3Limits, maxMetadataCount: 16, maxMetadataValueBytes: 256, maxMetadataBytes: 1536 }

// ETags are kept exactly as S3 sends them, quotes included ("<md5 hex>"), everywhere this
// provider returns one (listParts, complete), matching the ETag header the client sees on its
// part PUT. Comparisons (core, client) strip quotes first, so either form is accepted as input.
function quoteEtag(etag: string): string {
  return `"${bareEtag(etag)}"`
}

function integerIn(res: Parameters<typeof malformed>[0], xml: string, tag: string): number {
  const text = xmlText(xml, tag)
  const n = text === undefined ? NaN : Number(text.trim())
  if (!Number.isSafeInteger(n) || n < 0) throw malformed(res, `<${tag}> is ${text === undefined ? 'missing' : `"${text}"`}`)
  return n
}

/**
 * S3 storage provider.
 *
 * @example
 * ```ts
 * import { createValet } from '@valet/server'
 * import { s3 } from '@valet/server/s3'
 * const valet = createValet({
 *   storage: s3({ region: 'eu-west-1', bucket: 'uploads', credentials: { accessKeyId, secretAccessKey } }),
 *   secret, authorize,
 * })
 * ```
 *
 * The credentials need, on objects: `s3:PutObject` (create, upload part, complete, receipts
 * under `.valet/`), `s3:GetObject` (HEAD of committed objects, receipts), `s3:DeleteObject`
 * (receipts), `s3:ListMultipartUploadParts`, `s3:AbortMultipartUpload`; on the bucket:
 * `s3:ListBucketMultipartUploads` (idempotent create and `maxOpenUploads`). docs/production.md
 * has the policy. Browser uploads need a bucket CORS rule allowing `PUT` with the `Content-MD5`
 * header from the app's origin and exposing `ETag`; browser downloads (`canRead`), `GET` with
 * `Range` and `If-Match`, exposing `ETag` and `Content-Range`.
 *
 * @throws `ValetError('invalid_option')` naming the first invalid option.
 */
export function s3(options: S3Options): StorageProvider {
  const resolved = normalizeS3Options(options)
  const client = new S3Client(resolved)
  // Whether the store takes `If-None-Match: *` on CompleteMultipartUpload (AWS, Swift s3api do;
  // a store answering 501 is committed after a look instead, with a race left to the docs).
  let conditionalComplete = true
  const records = s3Records(client)
  // Whether the store refuses a PUT over an existing object when asked (`If-None-Match: *`): AWS
  // does; Swift s3api 2.30 answers 501. Learnt once per process from a record write.
  let conditionalPut: Promise<boolean> | undefined
  const probeConditionalPut = async (signal?: AbortSignal): Promise<boolean> => {
    await records.create('probes/conditional-put.json', '{"v":1}', signal)
    return records.conditional
  }

  return {
    name: 's3',
    limits: s3StorageLimits,
    records,

    singlePut: {
      async sign(input) {
        conditionalPut ??= probeConditionalPut(input.signal).catch((e: unknown) => {
          conditionalPut = undefined
          throw e
        })
        const conditional = await conditionalPut
        // Without a conditional PUT the key could replace an object: only a key no other upload
        // can ever use (it contains this upload's uniqueId) may go without it, and then it can
        // only write these same bytes over themselves.
        if (!conditional && !input.unique) return undefined
        return presignObject(resolved, input, conditional)
      },
      async remove({ key, signal }) {
        // The core just read the object and found it this upload's; keys are unique per upload.
        const res = await client.send({ operation: 'DeleteObject', method: 'DELETE', key, signal })
        if (!res.ok && res.status !== 404) throw storageError(res)
      },
    },

    async create({ key, type, disposition, metadata, signal }) {
      const headers: Record<string, string> = { 'content-type': type }
      if (disposition !== undefined) headers['content-disposition'] = disposition
      for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value
      const res = await client.send({ operation: 'CreateMultipartUpload', method: 'POST', key, query: { uploads: '' }, headers, signal })
      if (!res.ok) throw storageError(res)
      const uploadId = xmlText(res.text, 'UploadId')
      if (!uploadId) throw malformed(res, 'no <UploadId>')
      return { uploadId }
    },

    signPart(input) {
      return presignPart(resolved, input)
    },

    signRead(input) {
      return presignRead(resolved, input)
    },

    async listParts({ uploadId, key, signal }) {
      const parts = new Map<number, StoredPart>()
      let marker = 0
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const query: Record<string, string> = { uploadId }
        if (marker > 0) query['part-number-marker'] = String(marker)
        const res = await client.send({ operation: 'ListParts', method: 'GET', key, query, signal })
        if (res.error?.code === 'NoSuchUpload') throw uploadNotFound(uploadId, res)
        if (!res.ok) throw storageError(res)
        for (const part of xmlElements(res.text, 'Part')) {
          const etag = xmlText(part, 'ETag')
          if (!etag) throw malformed(res, 'a <Part> without <ETag>')
          const partNumber = integerIn(res, part, 'PartNumber')
          parts.set(partNumber, { partNumber, size: integerIn(res, part, 'Size'), etag })
        }
        if (xmlText(res.text, 'IsTruncated')?.trim() !== 'true') {
          return [...parts.values()].sort((a, b) => a.partNumber - b.partNumber)
        }
        const next = integerIn(res, res.text, 'NextPartNumberMarker')
        if (next <= marker) throw malformed(res, `NextPartNumberMarker ${next} does not advance past ${marker}`)
        marker = next
      }
      throw new ValetError('storage_error', `S3 ListParts failed: more than ${MAX_LIST_PAGES} pages`, {
        context: { operation: 'ListParts', status: 200, s3Code: undefined },
      })
    },

    uploadState(ref) {
      return uploadState(client, ref)
    },

    findCommitted(ref) {
      return findCommitted(client, resolved, ref)
    },

    stat({ key, signal }) {
      return statObject(client, resolved, key, signal)
    },

    async complete(ref) {
      const { uploadId, key, parts, signal } = ref
      const body =
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        [...parts]
          .sort((a, b) => a.partNumber - b.partNumber)
          .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(quoteEtag(p.etag))}</ETag></Part>`)
          .join('') +
        '</CompleteMultipartUpload>'
      const send = (conditional: boolean) =>
        client.send({
          operation: 'CompleteMultipartUpload',
          method: 'POST',
          key,
          query: { uploadId },
          // Write-once: storage refuses to commit over an object that is already there.
          headers: { 'content-type': 'application/xml', ...(conditional ? { 'if-none-match': '*' } : {}) },
          body,
          signal,
        })
      let res = await send(conditionalComplete)
      if (res.status === 501 && conditionalComplete) {
        conditionalComplete = false
        // The core looked before committing (findCommitted); without the header a concurrent
        // writer could still slip in between, which docs/security.md states for such stores.
        res = await send(false)
      }
      // A 200 whose body is <Error> arrives here with ok === false (see S3Client.send).
      if (!res.ok) {
        // Beaten by another commit (412; AWS 409 for one in progress), or the upload is gone
        // because a complete whose answer was lost already committed it: ours, or refused.
        const raced = res.status === 412 || res.status === 409
        if (raced || res.error?.code === 'NoSuchUpload') {
          const object = await findCommitted(client, resolved, ref)
          if (object) return object
          if (!raced) throw uploadNotFound(uploadId, res)
        }
        throw storageError(res)
      }
      if (!xmlText(res.text, 'ETag')) throw malformed(res, 'no <ETag>')
      // CompleteMultipartUploadResult carries no size, type or metadata: read them back, and
      // make sure the object there is the one this commit wrote.
      const object = await findCommitted(client, resolved, ref)
      if (!object) throw new ValetError('storage_error', `S3 HeadObject found no object at ${key} right after completing it`)
      return object
    },

    findUploads({ key, signal }) {
      return findUploads(client, key, signal)
    },

    countOpenUploads({ owner, limit, signal }) {
      return countOpenUploads(client, owner, limit, signal)
    },

    async abort({ uploadId, key, signal }) {
      const res = await client.send({ operation: 'AbortMultipartUpload', method: 'DELETE', key, query: { uploadId }, signal })
      if (res.ok) return
      // Already gone is what abort wants: NoSuchUpload (aborted, expired; AWS after complete) or,
      // on Swift s3api after complete, NoSuchKey (its upload marker is gone; the object stays).
      // NoSuchBucket is a misconfiguration and must surface.
      if (res.error?.code === 'NoSuchUpload' || (res.status === 404 && res.error?.code !== 'NoSuchBucket')) return
      throw storageError(res)
    },
  }
}
