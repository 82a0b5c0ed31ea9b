/**
 * Single-PUT uploads on Azure: the client's one Put Blob writes the object at its key.
 *
 * The key is a service SAS on exactly the object's blob name with `c` (create) only. Azure
 * documents `c` as "Write a new blob, snapshot a blob, or copy a blob to a new blob" (Create a
 * service SAS) and, for account SAS, "create new blobs or files, but may not overwrite existing
 * blobs". An overwrite is refused (Azure: 409 UnauthorizedBlobOverwrite; Azurite 3.35: 403
 * AuthorizationPermissionMismatch), so the key writes this name once and never replaces the
 * object, as the signed `If-None-Match: *` does on S3. One gap: Azurite checks `c` when a request
 * arrives, not with its write, so PUTs already in flight when the object lands land too (the last
 * wins), and Azure does not document when it checks. `If-None-Match: *` is decided with the write
 * (atomic on both), so the signed headers carry it: a client's own retries and duplicates never
 * replace the object; a holder who drops it can run that race (docs/security.md).
 *
 * Why not the part key's design (Put Blob on the staging blob, Copy Blob at complete): it would
 * close that race, but single-PUT complete only reads the object (the port has no commit step)
 * and costs one request; `c` keeps write-once without a copy.
 *
 * What `c` still allows, and how complete catches it (see stored-object.ts): a SAS binds no header
 * and no body, so a holder can send other bytes without `Content-MD5`, other headers, another blob
 * type, or Copy Blob into the name instead of the PUT. Complete compares size, `Content-MD5`,
 * type, disposition and metadata with the token, and `md5` is only reported for a plain block
 * blob written by Put Blob with none of the headers Valet never sets. Snapshot Blob is allowed
 * while the key lives: read-only copies of the same bytes, deleted with the object by `remove`.
 */
import type { BlockBlobClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { ValetError, azureLimits, type SignedPart } from '@valet/protocol'
import type { SignObjectInput, SinglePutProvider } from '../storage.js'
import { blobSas } from './blob-sas.js'
import { deleteIfMatch } from './commit-upload.js'
import { AZURE_SERVICE_VERSION, type NormalizedAzureOptions } from './options.js'

const MD5 = /^[A-Za-z0-9+/]{22}==$/

/** The headers a single-PUT request carries: Put Blob of a block blob with the planned properties. */
export function singlePutHeaders({ md5, type, disposition, metadata }: Pick<SignObjectInput, 'md5' | 'type' | 'disposition' | 'metadata'>): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-blob-type': 'BlockBlob',
    // Storage checks the body against it (400; Azurite: InvalidOperation); it becomes the blob's Content-MD5.
    'Content-MD5': md5,
    'x-ms-blob-content-type': type,
    'x-ms-version': AZURE_SERVICE_VERSION,
    // `c` alone is checked when a request arrives (Azurite: two PUTs in flight together both
    // land, the last one wins); this condition is decided atomically with the write, so a
    // client's own retries and duplicates can never replace the object. A holder may drop it.
    'If-None-Match': '*',
  }
  if (disposition !== undefined) headers['x-ms-blob-content-disposition'] = disposition
  // Metadata names are already [a-z_][a-z0-9_]* (the protocol's rule): valid header names as is.
  for (const [name, value] of Object.entries(metadata)) headers[`x-ms-meta-${name}`] = value
  return headers
}

export function azureSinglePut(
  config: NormalizedAzureOptions,
  credential: StorageSharedKeyCredential,
  finalOf: (key: string) => BlockBlobClient,
): SinglePutProvider {
  return {
    async sign(input: SignObjectInput): Promise<SignedPart> {
      input.signal?.throwIfAborted()
      const { key, size, md5, expiresAt } = input
      if (!Number.isSafeInteger(size) || size < 1 || size > azureLimits.maxPartSize) {
        throw new ValetError('invalid_part', `a single PUT must be between 1 and ${azureLimits.maxPartSize} bytes`, { context: { size } })
      }
      if (typeof md5 !== 'string' || !MD5.test(md5)) throw new ValetError('invalid_part', 'md5 must be a base64 MD5', { context: { md5 } })
      // `unique` does not matter here: `c` cannot overwrite whatever the key names.
      const blob = finalOf(key)
      const sas = blobSas(config, credential, blob.name, 'c', expiresAt)
      return { partNumber: 1, url: `${blob.url}?${sas.query}`, method: 'PUT', headers: singlePutHeaders(input), expiresAt: sas.expiresOn.toISOString() }
    },

    async remove({ key, etag, signal }): Promise<void> {
      // If-Match: only the object this upload saw; one written after (by a later key) stays.
      if (typeof etag !== 'string' || etag === '') throw new ValetError('internal_error', 'azure(): remove needs the etag', { context: { key } })
      await deleteIfMatch(finalOf(key), etag, signal)
    },
  }
}
