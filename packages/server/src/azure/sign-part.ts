import type { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { ValetError, azureLimits, type SignedPart } from '@valet/protocol'
import type { SignPartInput } from '../storage.js'
import { stagingName } from './blob-names.js'
import { blobSas } from './blob-sas.js'
import { encodeBlockId } from './block-id.js'
import type { NormalizedAzureOptions } from './options.js'

/**
 * A valet key for one part: Put Block of this part's block id on the upload's *staging* blob,
 * through a blob SAS (`sr=b`) with `w` only, HTTPS-only when the endpoint is HTTPS. Azure cannot
 * narrow a SAS further: Put Block needs `w` (Azurite refuses `c` and `a` with 403), and `w` also
 * allows Put Blob, Put Block List, properties, metadata, lease, snapshot and being a copy
 * destination. That is why the key names the staging blob and never the object key: everything it
 * allows stays on a blob only this upload uses, and complete copies to the key what it checked.
 */
export function signPart(
  config: NormalizedAzureOptions,
  credential: StorageSharedKeyCredential,
  container: ContainerClient,
  { uploadId, owner, partNumber, size, md5, expiresAt, signal }: SignPartInput,
): SignedPart {
  signal?.throwIfAborted()
  if (!Number.isSafeInteger(size) || size < 1 || size > azureLimits.maxPartSize) {
    throw new ValetError('invalid_part', `part size must be between 1 and ${azureLimits.maxPartSize} bytes`, { context: { partNumber, size } })
  }
  const blockId = encodeBlockId(uploadId, partNumber, md5)
  const blobName = stagingName(owner, uploadId)
  const sas = blobSas(config, credential, blobName, 'w', expiresAt)
  return {
    partNumber,
    url: `${container.getBlockBlobClient(blobName).url}?comp=block&blockid=${encodeURIComponent(blockId)}&${sas.query}`,
    method: 'PUT',
    // `sv` in the SAS fixes the service version (Azure ignores x-ms-version on SAS requests), and
    // Put Block needs no x-ms-blob-type: one header less for CORS to allow.
    headers: { 'Content-MD5': md5 },
    expiresAt: sas.expiresOn.toISOString(),
  }
}
