/** Listing multipart uploads: the ones at one key (idempotent create), or one owner's (the cap). */
import { ValetError } from '@valet/protocol'
import type { FoundUpload } from '../storage.js'
import { malformed } from './s3-objects.js'
import { S3Client, storageError } from './s3-client.js'
import { xmlElements, xmlText } from './s3-xml.js'

// Guards against a store that keeps answering IsTruncated with the same marker.
export const MAX_LIST_PAGES = 1000

export interface ListedUpload {
  key: string
  uploadId: string
  /** The raw `<Upload>` element. */
  xml: string
}

/**
 * Calls `visit` for every unfinished upload whose key starts with `prefix`, page after page,
 * until `visit` returns `false` or the listing ends.
 */
export async function listUploads(client: S3Client, prefix: string, visit: (upload: ListedUpload) => boolean, signal?: AbortSignal): Promise<void> {
  let keyMarker = ''
  let uploadIdMarker = ''
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const query: Record<string, string> = { uploads: '', prefix }
    if (keyMarker !== '') query['key-marker'] = keyMarker
    if (uploadIdMarker !== '') query['upload-id-marker'] = uploadIdMarker
    const res = await client.send({ operation: 'ListMultipartUploads', method: 'GET', key: undefined, query, signal })
    if (!res.ok) throw storageError(res)
    let last: { key: string; uploadId: string } | undefined
    for (const xml of xmlElements(res.text, 'Upload')) {
      const key = xmlText(xml, 'Key')
      const uploadId = xmlText(xml, 'UploadId')
      if (key === undefined || !uploadId) throw malformed(res, 'an <Upload> without <Key> or <UploadId>')
      last = { key, uploadId }
      if (!visit({ key, uploadId, xml })) return
    }
    if (xmlText(res.text, 'IsTruncated')?.trim() !== 'true') return
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
}

/** Unfinished uploads at exactly `key` (`prefix` also matches `a.bin.2` for `a.bin`). */
export async function findUploads(client: S3Client, key: string, signal?: AbortSignal): Promise<FoundUpload[]> {
  const found = new Map<string, FoundUpload>()
  await listUploads(
    client,
    key,
    (upload) => {
      if (upload.key !== key) return true
      const text = xmlText(upload.xml, 'Initiated')
      const initiated = new Date(text?.trim() ?? '')
      if (Number.isNaN(initiated.getTime())) {
        throw new ValetError('storage_error', `S3 ListMultipartUploads failed: <Initiated> of upload ${upload.uploadId} is ${text === undefined ? 'missing' : `"${text}"`}`)
      }
      found.set(upload.uploadId, { uploadId: upload.uploadId, initiated })
      return true
    },
    signal,
  )
  return [...found.values()]
}

/** Open uploads under `${owner}/`, counting no further than `limit`. */
export async function countOpenUploads(client: S3Client, owner: string, limit: number, signal?: AbortSignal): Promise<number> {
  let count = 0
  await listUploads(client, `${owner}/`, () => ++count < limit, signal)
  return count
}
