import { BlobSASPermissions, SASProtocol, generateBlobSASQueryParameters, type ContainerClient, type StorageSharedKeyCredential } from '@azure/storage-blob'
import { ValetError, type SignedRange } from '@valet/protocol'
import type { SignReadInput } from '../storage.js'
import { checkObjectKey } from './blob-names.js'
import { AZURE_SERVICE_VERSION, type NormalizedAzureOptions } from './options.js'

/**
 * A read key for bytes `[start, end)` of one blob: a service SAS `sr=b` with `r` only, on
 * exactly the object's blob, short expiry, HTTPS-only when the endpoint is HTTPS. A SAS cannot
 * bind a range or an ETag: the key's headers ask for them (`x-ms-range`, `If-Match`, so an
 * honest client never mixes versions), but a holder can read the **whole blob** until the key
 * expires. It never reads another blob (the signature covers the name), never lists and never
 * writes (`sp=r`). docs/security.md states it.
 */
export function signRead(
  config: NormalizedAzureOptions,
  credential: StorageSharedKeyCredential,
  container: ContainerClient,
  { key, etag, start, end, expiresAt, signal }: SignReadInput,
): SignedRange {
  signal?.throwIfAborted()
  checkObjectKey(key)
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) {
    throw new ValetError('internal_error', 'expiresAt must be a valid Date', { context: { key } })
  }
  // `se` has whole-second precision; report the instant storage really stops accepting.
  const expiresOn = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000)
  const sas = generateBlobSASQueryParameters(
    {
      containerName: config.container,
      blobName: key,
      permissions: BlobSASPermissions.parse('r'),
      protocol: config.https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
      // No `st`, as for part keys: a storage clock behind ours cannot refuse a fresh key.
      expiresOn,
      version: AZURE_SERVICE_VERSION,
    },
    credential,
  ).toString()
  return {
    start,
    end,
    url: `${container.getBlockBlobClient(key).url}?${sas}`,
    method: 'GET',
    // `x-ms-range` rather than `Range`: Azure honours it on every service version.
    headers: { 'x-ms-range': `bytes=${start}-${end - 1}`, 'If-Match': etag, 'x-ms-version': AZURE_SERVICE_VERSION },
    expiresAt: expiresOn.toISOString(),
  }
}
