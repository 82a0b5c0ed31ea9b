/** @module @valet/server/azure — the Azure Blob Storage provider: `azure({ accountName, accountKey, container, endpoint? })`.
 *
 * Mapping: an upload is a block blob named by the object key. A part is one block (Put Block,
 * through a blob SAS with `w` only), resume reads Get Block List, complete is Put Block List.
 *
 * Part etags. Azure's Put Block returns no ETag, and Get Block List returns only block names and
 * sizes. So the Azure part etag is the part's **base64 MD5**, i.e. the `Content-MD5` value the key
 * was signed with (Azure echoes it in Put Block's `Content-MD5` response header; Azurite 3.35 does
 * not, so a client should fall back to its own MD5). The provider writes that MD5 into the block id
 * (see `block-id.ts`), which gives:
 *   - `listParts` returns `{ partNumber, size, etag: <base64 MD5> }`, one per part, so a resuming
 *     client skips a part only when size *and* content hash match its local bytes (as with S3);
 *   - `complete` rebuilds each block id from the client's `{ partNumber, etag }`, so it commits
 *     exactly the bytes the client claims, or fails with `part_mismatch` (Azure: InvalidBlockList).
 * Rule for clients: when a 2xx Put Block has no `ETag`, the part etag is the base64 MD5 it signed,
 * unquoted. `complete` also accepts it quoted or as 32 hex digits.
 * Storage refuses a body whose MD5 differs from `Content-MD5` (Azure 400 Md5Mismatch).
 *
 * What a part's SAS allows. Azure cannot bind a SAS to a block id, a length or an MD5. The key is a
 * blob SAS (`sr=b`, `sp=w`, HTTPS-only when the endpoint is HTTPS) for one blob, valid until its
 * expiry: whoever holds it may, until then, Put Block with any id, length and bytes, Put Blob
 * (create or overwrite the whole blob), Put Block List, set the blob's properties or metadata,
 * take a lease or snapshot. It cannot read, list or delete, and it cannot touch any other blob.
 * Storage still checks `Content-MD5` when the header is sent, so an honest client never stores
 * corrupted bytes (a request without the header is not checked); and `complete` commits only
 * blocks whose ids carry the MD5 the client declared. Keep `keyTtl` short and object keys unique
 * per upload (the default `objectKey` does), so the reach of a leaked key is one unfinished blob.
 */
import {
  BlobSASPermissions,
  SASProtocol,
  generateBlobSASQueryParameters,
  type BlockBlobClient,
} from '@azure/storage-blob'
import { ValetError, azureLimits, type SignedPart, type StoredPart } from '@valet/protocol'
import type { CompleteInput, CreateInput, SignPartInput, StorageProvider, UploadRef } from '../storage.js'
import { belongsTo, decodeBlockId, encodeBlockId, isUploadId, md5FromEtag } from './block-id.js'
import { createClients } from './client.js'
import { azureFailure, hasAzureCode, toValetError } from './errors.js'
import { AZURE_SERVICE_VERSION, normalizeAzureOptions, type AzureOptions } from './options.js'

export type { AzureOptions } from './options.js'

/** Metadata on the short-lived empty blob `abort` commits, so it can be told apart if it lingers. */
const ABORT_MARKER = 'valet_aborted_upload'

/**
 * Azure Blob Storage (and Azurite) as Valet's storage.
 *
 * @example
 * ```ts
 * import { createValet } from '@valet/server'
 * import { azure } from '@valet/server/azure'
 * const valet = createValet({
 *   storage: azure({ accountName: 'myaccount', accountKey: process.env.AZURE_KEY!, container: 'uploads' }),
 *   secret, authorize,
 * })
 * ```
 * The container must exist, and browsers need CORS on the account's blob service: allow `PUT`
 * with headers `content-md5` (or `*`) and expose `content-md5` and `etag`.
 * @throws TypeError naming the bad option.
 */
export function azure(options: AzureOptions): StorageProvider {
  const config = normalizeAzureOptions(options)
  const { credential, container } = createClients(config)
  const blobOf = (key: string): BlockBlobClient => container.getBlockBlobClient(key)

  /** Blocks of one upload by part number; an uncommitted block wins over a committed one. */
  async function blocksOf(blob: BlockBlobClient, ref: UploadRef, listType: 'all' | 'uncommitted'): Promise<Map<number, StoredPart>> {
    const parts = new Map<number, StoredPart>()
    let list
    try {
      list = await blob.getBlockList(listType, { abortSignal: ref.signal })
    } catch (error) {
      // No blob and no block yet: an upload with no parts (or one already aborted).
      if (hasAzureCode(error, 'BlobNotFound')) return parts
      throw toValetError(error, 'Get Block List', { signal: ref.signal, context: { key: ref.key } })
    }
    const committed = listType === 'all' ? (list.committedBlocks ?? []) : []
    for (const block of [...committed, ...(list.uncommittedBlocks ?? [])]) {
      const decoded = decodeBlockId(block.name)
      if (decoded && belongsTo(decoded, ref.uploadId)) {
        parts.set(decoded.partNumber, { partNumber: decoded.partNumber, size: block.size, etag: decoded.md5 })
      }
    }
    return parts
  }

  return {
    name: 'azure',
    limits: azureLimits,

    async create({ signal }: CreateInput) {
      signal?.throwIfAborted()
      // Azure has no multipart-upload object: the id only namespaces block ids; nothing is stored
      // until complete, so an unfinished upload never shows as a blob.
      return { uploadId: crypto.randomUUID() }
    },

    async signPart({ uploadId, key, partNumber, size, md5, expiresAt, signal }: SignPartInput): Promise<SignedPart> {
      signal?.throwIfAborted()
      if (!Number.isSafeInteger(size) || size < 1 || size > azureLimits.maxPartSize) {
        throw new ValetError('invalid_part', `part size must be between 1 and ${azureLimits.maxPartSize} bytes`, {
          context: { partNumber, size },
        })
      }
      if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) {
        throw new ValetError('internal_error', 'expiresAt must be a valid Date', { context: { partNumber } })
      }
      const blockId = encodeBlockId(uploadId, partNumber, md5)
      // `se` has whole-second precision; report the instant storage really stops accepting.
      const expiresOn = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000)
      const sas = generateBlobSASQueryParameters(
        {
          containerName: config.container,
          blobName: key,
          permissions: BlobSASPermissions.parse('w'),
          protocol: config.https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
          // No `st`: storage then starts validity when the request arrives, so a storage clock
          // behind ours cannot refuse a fresh key (a back-dated start would only widen the window).
          expiresOn,
          version: AZURE_SERVICE_VERSION,
        },
        credential,
      ).toString()
      return {
        partNumber,
        url: `${blobOf(key).url}?comp=block&blockid=${encodeURIComponent(blockId)}&${sas}`,
        method: 'PUT',
        // `sv` in the SAS fixes the service version (Azure ignores x-ms-version on SAS requests),
        // and Put Block needs no x-ms-blob-type: one header less for CORS to allow.
        headers: { 'Content-MD5': md5 },
        expiresAt: expiresOn.toISOString(),
      }
    },

    async listParts(ref: UploadRef): Promise<StoredPart[]> {
      if (!isUploadId(ref.uploadId)) throw new ValetError('upload_not_found', 'not an Azure upload id', { context: { uploadId: ref.uploadId } })
      // `all`, not `uncommitted`: after a complete whose answer was lost, the parts are committed
      // and a retried complete still finds them (and re-commits the same blocks).
      const parts = await blocksOf(blobOf(ref.key), ref, 'all')
      return [...parts.values()].sort((a, b) => a.partNumber - b.partNumber)
    },

    async complete({ uploadId, key, parts, type, metadata, signal }: CompleteInput) {
      if (parts.length === 0) throw new ValetError('part_mismatch', 'complete needs at least one part')
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
      const blockIds = sorted.map((part, i) => {
        if (i > 0 && sorted[i - 1]!.partNumber === part.partNumber) {
          throw new ValetError('part_mismatch', `part ${part.partNumber} is listed twice`, { context: { partNumber: part.partNumber } })
        }
        const md5 = md5FromEtag(part.etag)
        if (md5 === undefined) {
          throw new ValetError('part_mismatch', `part ${part.partNumber} etag is not the part's MD5 (base64, as in Content-MD5)`, {
            context: { partNumber: part.partNumber },
          })
        }
        return encodeBlockId(uploadId, part.partNumber, md5)
      })
      const blob = blobOf(key)
      let etag: string | undefined
      try {
        const committed = await blob.commitBlockList(blockIds, {
          blobHTTPHeaders: { blobContentType: type },
          metadata,
          abortSignal: signal,
        })
        etag = committed.etag
      } catch (error) {
        if (!signal?.aborted && hasAzureCode(error, 'InvalidBlockList')) {
          // A block named by the client is not stored: tell a wrong part from a vanished upload.
          const left = await blocksOf(blob, { uploadId, key, signal }, 'all').catch(() => new Map<number, StoredPart>())
          if (left.size === 0) {
            throw new ValetError('upload_not_found', 'no part of this upload is stored (aborted, or older than 7 days)', { cause: error })
          }
          const missing = sorted.filter((p) => left.get(p.partNumber)?.etag !== md5FromEtag(p.etag)).map((p) => p.partNumber)
          throw new ValetError('part_mismatch', `parts ${missing.join(', ')} are not stored with those etags (MD5)`, {
            cause: error,
            context: { ...azureFailure(error), missing },
          })
        }
        throw toValetError(error, 'Put Block List', { signal, context: { key } })
      }
      try {
        // If-Match: report the blob this commit wrote, not one a concurrent writer put there since.
        const props = await blob.getProperties({ abortSignal: signal, conditions: etag ? { ifMatch: etag } : {} })
        return { etag: props.etag ?? etag ?? '', size: props.contentLength ?? 0, location: blob.url }
      } catch (error) {
        throw toValetError(error, 'Get Blob Properties', { signal, context: { key } })
      }
    },

    async abort(ref: UploadRef): Promise<void> {
      // Azure has no call that deletes uncommitted blocks: they expire 7 days after the blob's last
      // Put Block, or vanish when the blob is committed (blocks left out of a committed list are
      // discarded). So, when no blob is committed at the key, commit an empty block list
      // (If-None-Match: *) and delete that empty blob at once (If-Match its ETag). Side effects on
      // accounts that have them: a BlobCreated + BlobDeleted event pair, and a soft-deleted or
      // versioned 0-byte blob, marked with metadata `valet_aborted_upload`. When a blob is
      // already committed there (overwrite of an existing key, or this upload completed), it is
      // left alone and the blocks expire by themselves: abort never destroys committed data.
      // Any other upload's unfinished blocks on the same key are discarded too (unique keys avoid it).
      if (!isUploadId(ref.uploadId)) return
      const blob = blobOf(ref.key)
      const ours = await blocksOf(blob, ref, 'uncommitted')
      if (ours.size === 0) return
      let emptyEtag: string | undefined
      try {
        const created = await blob.commitBlockList([], {
          conditions: { ifNoneMatch: '*' },
          metadata: { [ABORT_MARKER]: ref.uploadId },
          abortSignal: ref.signal,
        })
        emptyEtag = created.etag
      } catch (error) {
        const { status } = azureFailure(error)
        if (!ref.signal?.aborted && (status === 409 || status === 412)) return
        throw toValetError(error, 'abort (Put Block List)', { signal: ref.signal, context: { key: ref.key } })
      }
      try {
        await blob.delete({ conditions: emptyEtag ? { ifMatch: emptyEtag } : {}, abortSignal: ref.signal })
      } catch (error) {
        const { status } = azureFailure(error)
        // Gone already, or replaced by a real upload since: either way not ours to delete.
        if (!ref.signal?.aborted && (status === 404 || status === 412)) return
        throw toValetError(error, 'abort (Delete Blob)', { signal: ref.signal, context: { key: ref.key } })
      }
    },
  }
}
