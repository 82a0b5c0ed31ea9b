import type { BlobGetPropertiesResponse, BlockBlobClient } from '@azure/storage-blob'
import type { StoredObject } from '../storage.js'
import { STAGING_PREFIX } from './blob-names.js'
import { unplannedHeaders } from './staging-blob.js'

/**
 * `md5` of an object that cannot be what a single-PUT key's PUT makes: it matches no MD5, so
 * single-PUT complete refuses it. (Leaving `md5` out would not do: the core then trusts the size
 * alone for keys unique to the upload, as it must for S3 objects whose ETag is no MD5.)
 */
export const NOT_A_SINGLE_PUT = ''

/**
 * The object at a key as storage describes it, with `md5` saying what single-PUT complete may
 * trust (it compares it with the token's):
 *   - the blob's `Content-MD5`, base64, for a block blob written by Put Blob (Azure stores the MD5
 *     it checked, or one it computed) with no header Valet never sets;
 *   - none for an object a multipart complete made: a copy of this container's staging blob,
 *     without `Content-MD5` (nothing checks `md5` for those);
 *   - {@link NOT_A_SINGLE_PUT} for anything else a single-PUT key (`c`) lets a holder make at the
 *     key instead: a page or append blob (Azurite: 201 for both); Copy Blob from a source of their
 *     own, which carries the source's `Content-MD5` *property*, set freely by whoever writes the
 *     source (measured on Azurite: a forged value arrives at the key with other bytes); Put Blob
 *     with `x-ms-blob-content-encoding`, `-language`, `-cache-control`, or an explicit access tier
 *     (`x-ms-access-tier: Archive` leaves the object unreadable for hours and bills early deletion).
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
  const md5 = md5Of(blob, props)
  if (md5 !== undefined) stored.md5 = md5
  return stored
}

function md5Of(blob: BlockBlobClient, props: BlobGetPropertiesResponse): string | undefined {
  const { contentMD5 } = props
  const recorded = contentMD5 instanceof Uint8Array && contentMD5.length === 16 ? Buffer.from(contentMD5).toString('base64') : undefined
  const copied = Boolean(props.copyId || props.copySource || props.copyStatus)
  if (props.blobType === 'BlockBlob' && copied && recorded === undefined && copiedFromStaging(blob, props.copySource)) return undefined
  if (props.blobType !== 'BlockBlob' || copied || recorded === undefined) return NOT_A_SINGLE_PUT
  if (props.accessTierInferred === false || unplannedHeaders(props).some((h) => h !== 'Content-MD5')) return NOT_A_SINGLE_PUT
  return recorded
}

/** Whether `source` names a staging blob of the container `blob` is in (only complete copies from there). */
function copiedFromStaging(blob: BlockBlobClient, source: string | undefined): boolean {
  try {
    const from = new URL(source ?? '')
    const to = new URL(blob.url)
    const target = decodeURIComponent(to.pathname)
    if (from.host !== to.host || !target.endsWith(`/${blob.name}`)) return false
    const container = target.slice(0, target.length - blob.name.length)
    return decodeURIComponent(from.pathname).startsWith(`${container}${STAGING_PREFIX}`)
  } catch {
    return false
  }
}
