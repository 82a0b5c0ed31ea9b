/**
 * @module @valet/server/s3 — the storage provider for AWS S3 and S3-compatibles (Swift s3api,
 * MinIO, R2, GCS XML API): multipart uploads whose parts are sent straight to the bucket
 * through presigned UploadPart URLs.
 */
import { ValetError, s3Limits, type StoredPart } from '@valet/protocol'
import type { FoundUpload, StorageProvider } from '../storage.js'
import { objectUrl } from './object-url.js'
import { presignPart } from './presign-part.js'
import { S3Client, storageError, type S3Response } from './s3-client.js'
import { normalizeS3Options, type S3Options } from './s3-options.js'
import { escapeXml, xmlElements, xmlText } from './s3-xml.js'

export type { S3Credentials, S3Options } from './s3-options.js'

// Guards against a store that keeps answering IsTruncated with the same marker.
const MAX_LIST_PAGES = 1000

function uploadNotFound(uploadId: string, res: S3Response): ValetError {
  return new ValetError('upload_not_found', `upload ${uploadId} does not exist (completed, aborted or expired)`, {
    context: { operation: res.operation, status: res.status, s3Code: res.error?.code },
  })
}

function malformed(res: S3Response, what: string): ValetError {
  return new ValetError('storage_error', `S3 ${res.operation} failed: unexpected answer (${what})`, {
    context: { operation: res.operation, status: res.status, s3Code: undefined },
  })
}

function integerIn(res: S3Response, xml: string, tag: string): number {
  const text = xmlText(xml, tag)
  const n = text === undefined ? NaN : Number(text.trim())
  if (!Number.isSafeInteger(n) || n < 0) throw malformed(res, `<${tag}> is ${text === undefined ? 'missing' : `"${text}"`}`)
  return n
}

// ETags are kept exactly as S3 sends them, quotes included ("<md5 hex>"), everywhere this
// provider returns one (listParts, complete), matching the ETag header the client sees on its
// part PUT. Comparisons (core, client) strip quotes first, so either form is accepted as input.
function quoteEtag(etag: string): string {
  return `"${etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '')}"`
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
 * The credentials need `s3:PutObject` (create, upload part, complete), `s3:ListMultipartUploadParts`,
 * `s3:AbortMultipartUpload`, for the size check after completion `s3:GetObject` (HEAD), and
 * `s3:ListBucketMultipartUploads` on the bucket: a create carrying a `requestId` (every
 * `@valet/client` create does) lists the unfinished uploads at its key to find the one an
 * unanswered earlier attempt started (without the permission, creates work but are not
 * idempotent, and `onError` says so).
 * Browser uploads need a bucket CORS rule allowing `PUT` with the `Content-MD5` header from the
 * app's origin and exposing `ETag`.
 *
 * @throws TypeError naming the first invalid option.
 */
export function s3(options: S3Options): StorageProvider {
  const resolved = normalizeS3Options(options)
  const client = new S3Client(resolved)

  return {
    name: 's3',
    limits: s3Limits,

    async create({ key, type, metadata, signal }) {
      const headers: Record<string, string> = { 'content-type': type }
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

    async complete({ uploadId, key, parts, signal }) {
      const body =
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        [...parts]
          .sort((a, b) => a.partNumber - b.partNumber)
          .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(quoteEtag(p.etag))}</ETag></Part>`)
          .join('') +
        '</CompleteMultipartUpload>'
      const res = await client.send({
        operation: 'CompleteMultipartUpload',
        method: 'POST',
        key,
        query: { uploadId },
        headers: { 'content-type': 'application/xml' },
        body,
        signal,
      })
      // A 200 whose body is <Error> arrives here with ok === false (see S3Client.send).
      if (res.error?.code === 'NoSuchUpload') throw uploadNotFound(uploadId, res)
      if (!res.ok) throw storageError(res)
      const etag = xmlText(res.text, 'ETag')
      if (!etag) throw malformed(res, 'no <ETag>')

      // CompleteMultipartUploadResult carries no size; the core checks it against the plan.
      const object = await this.stat!({ uploadId, key, signal })
      if (!object) throw new ValetError('storage_error', `S3 HeadObject found no object at ${key} right after completing it`)
      return { ...object, etag }
    },

    async stat({ key, signal }) {
      const head = await client.send({ operation: 'HeadObject', method: 'HEAD', key, signal })
      if (head.status === 404) return undefined
      if (!head.ok) throw storageError(head)
      const size = Number(head.headers.get('content-length'))
      if (!Number.isSafeInteger(size) || size < 0) throw malformed(head, 'no Content-Length')
      return { etag: head.headers.get('etag') ?? '', size, location: objectUrl(resolved, key).toString() }
    },

    async findUploads({ key, signal }) {
      const found = new Map<string, FoundUpload>()
      let keyMarker = ''
      let uploadIdMarker = ''
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        // `prefix` also matches longer keys (`a.bin.2` for `a.bin`): only exact keys count below.
        const query: Record<string, string> = { uploads: '', prefix: key }
        if (keyMarker !== '') query['key-marker'] = keyMarker
        if (uploadIdMarker !== '') query['upload-id-marker'] = uploadIdMarker
        const res = await client.send({ operation: 'ListMultipartUploads', method: 'GET', key: undefined, query, signal })
        if (!res.ok) throw storageError(res)
        let last: { key: string; uploadId: string } | undefined
        for (const upload of xmlElements(res.text, 'Upload')) {
          const uploadKey = xmlText(upload, 'Key')
          const uploadId = xmlText(upload, 'UploadId')
          if (uploadKey === undefined || !uploadId) throw malformed(res, 'an <Upload> without <Key> or <UploadId>')
          last = { key: uploadKey, uploadId }
          if (uploadKey !== key) continue
          const text = xmlText(upload, 'Initiated')
          const initiated = new Date(text?.trim() ?? '')
          if (Number.isNaN(initiated.getTime())) throw malformed(res, `<Initiated> of upload ${uploadId} is ${text === undefined ? 'missing' : `"${text}"`}`)
          found.set(uploadId, { uploadId, initiated })
        }
        if (xmlText(res.text, 'IsTruncated')?.trim() !== 'true') return [...found.values()]
        // Swift s3api leaves NextKeyMarker and NextUploadIdMarker empty on a truncated page; the
        // last upload listed is the same position.
        const nextKey = xmlText(res.text, 'NextKeyMarker') || last?.key || ''
        const nextId = xmlText(res.text, 'NextUploadIdMarker') || last?.uploadId || ''
        if (nextKey === '' || (nextKey === keyMarker && nextId === uploadIdMarker)) throw malformed(res, 'a truncated page whose next marker does not advance')
        keyMarker = nextKey
        uploadIdMarker = nextId
      }
      throw new ValetError('storage_error', `S3 ListMultipartUploads failed: more than ${MAX_LIST_PAGES} pages`, {
        context: { operation: 'ListMultipartUploads', status: 200, s3Code: undefined },
      })
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
