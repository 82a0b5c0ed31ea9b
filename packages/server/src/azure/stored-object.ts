import type { BlobGetPropertiesResponse, BlockBlobClient } from '@azure/storage-blob'
import type { StoredObject } from '../storage.js'
import { unplannedHeaders } from './staging-blob.js'

/**
 * The object at a key as storage describes it. `md5` (the blob's `Content-MD5`) is reported only
 * for a blob that is what a single-PUT key's Put Blob makes, so that single-PUT complete, which
 * compares it with the token, refuses anything else a key holder could make there instead:
 *   - not a block blob: a `c` SAS also creates page and append blobs (Azurite: 201 for both);
 *   - made by Copy Blob (`copyId` set): `c` also allows "copy a blob to a new blob", and the copy
 *     carries the source's `Content-MD5` *property*, which anyone who can write the source sets
 *     freely (measured on Azurite: the forged value arrives at the key with other bytes);
 *   - a header Valet never sets (Content-Encoding, -Language, Cache-Control: Put Blob takes them
 *     as `x-ms-blob-*`), or an access tier set explicitly (`x-ms-access-tier: Archive` would make
 *     the object unreadable for hours and bill early deletion).
 * Objects committed by a multipart complete are copies without `Content-MD5`: no `md5` either,
 * which nothing checks for them.
 */
export function storedObject(blob: BlockBlobClient, props: BlobGetPropertiesResponse): StoredObject {
  const metadata: Record<string, string> = {}
  for (const [k, v] of Object.entries(props.metadata ?? {})) metadata[k.toLowerCase()] = v
  const stored: StoredObject = {
    etag: props.etag ?? '',
    size: props.contentLength ?? 0,
    location: blob.url,
    type: props.contentType,
    disposition: props.contentDisposition,
    metadata,
  }
  const md5 = singlePutMd5(props)
  if (md5 !== undefined) stored.md5 = md5
  return stored
}

function singlePutMd5(props: BlobGetPropertiesResponse): string | undefined {
  const { contentMD5 } = props
  if (!(contentMD5 instanceof Uint8Array) || contentMD5.length !== 16) return undefined
  if (props.blobType !== 'BlockBlob' || props.copyId || props.copySource || props.copyStatus) return undefined
  if (props.accessTierInferred === false) return undefined
  if (unplannedHeaders(props).some((h) => h !== 'Content-MD5')) return undefined
  return Buffer.from(contentMD5).toString('base64')
}
