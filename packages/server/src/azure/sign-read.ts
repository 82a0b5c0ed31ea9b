import type { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import type { SignedRange } from '@valet/protocol'
import type { SignReadInput } from '../storage.js'
import { checkObjectKey } from './blob-names.js'
import { blobSas } from './blob-sas.js'
import { AZURE_SERVICE_VERSION, type NormalizedAzureOptions } from './options.js'

/**
 * A read key for bytes `[start, end)` of one blob: a service SAS `sr=b` with `r` only, on
 * exactly the object's blob, short expiry (see blob-sas.ts). A SAS cannot bind a range or an
 * ETag: the key's headers ask for them (`x-ms-range`, `If-Match`, so an honest client never
 * mixes versions), but a holder can read the **whole blob** until the key expires. It never
 * reads another blob (the signature covers the name), never lists and never writes (`sp=r`).
 * docs/security.md states it.
 */
export function signRead(
  config: NormalizedAzureOptions,
  credential: StorageSharedKeyCredential,
  container: ContainerClient,
  { key, etag, start, end, expiresAt, signal }: SignReadInput,
): SignedRange {
  signal?.throwIfAborted()
  checkObjectKey(key)
  const sas = blobSas(config, credential, key, 'r', expiresAt)
  return {
    start,
    end,
    url: `${container.getBlockBlobClient(key).url}?${sas.query}`,
    method: 'GET',
    // `x-ms-range` rather than `Range`: Azure honours it on every service version.
    headers: { 'x-ms-range': `bytes=${start}-${end - 1}`, 'If-Match': etag, 'x-ms-version': AZURE_SERVICE_VERSION },
    expiresAt: sas.expiresOn.toISOString(),
  }
}
