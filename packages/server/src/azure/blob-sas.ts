import { BlobSASPermissions, SASProtocol, generateBlobSASQueryParameters, type StorageSharedKeyCredential } from '@azure/storage-blob'
import { ValetError } from '@valet/protocol'
import { AZURE_SERVICE_VERSION, type NormalizedAzureOptions } from './options.js'

export interface BlobSas {
  /** The SAS query string, without `?`. */
  query: string
  /** When storage stops accepting it: `expiresAt` cut to whole seconds. */
  expiresOn: Date
}

/**
 * A service SAS (`sr=b`) for exactly one blob, the one shape every valet key on Azure has: the
 * given permissions only, HTTPS-only when the endpoint is HTTPS, the pinned service version, and
 * no start time. Part keys, single-PUT keys and read keys differ only in the blob and the
 * permissions.
 */
export function blobSas(
  config: NormalizedAzureOptions,
  credential: StorageSharedKeyCredential,
  blobName: string,
  permissions: 'w' | 'c' | 'r',
  expiresAt: Date,
): BlobSas {
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) {
    throw new ValetError('internal_error', 'expiresAt must be a valid Date', { context: { blob: blobName } })
  }
  // `se` has whole-second precision; report the instant storage really stops accepting.
  const expiresOn = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000)
  const query = generateBlobSASQueryParameters(
    {
      containerName: config.container,
      blobName,
      permissions: BlobSASPermissions.parse(permissions),
      protocol: config.https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
      // No `st`: storage then starts validity when the request arrives, so a storage clock behind
      // ours cannot refuse a fresh key (a back-dated start would only widen the window).
      expiresOn,
      version: AZURE_SERVICE_VERSION,
    },
    credential,
  ).toString()
  return { query, expiresOn }
}
