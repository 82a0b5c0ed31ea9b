/**
 * The staging blob of an upload, `.valet/staging/<owner>/<uploadId>`: the only blob a valet key is
 * ever signed for. Parts are its uncommitted blocks; complete commits them on it and copies it to
 * the object key. Its committed content says where the upload stands:
 *   - a 1-byte open marker written by `create` (so the upload shows in a listing and a retried
 *     create finds it), or the parts committed by a complete that has not copied yet: open;
 *   - a 1-byte tombstone (the marker block alone, metadata `valet_aborted_upload`): aborted;
 *   - no blob at all: never created, or gone (completed, expired, cleaned up).
 * A key holder can rewrite any of this for their own upload until their key expires; nothing here
 * is trusted for the object itself (complete verifies what lands at the key).
 */
import type { BlobGetPropertiesResponse, BlockBlobClient } from '@azure/storage-blob'
import { ValetError, type StoredPart } from '@valet/protocol'
import { belongsTo, decodeBlockId, MARKER_BODY, MARKER_MD5, markerBlockId } from './block-id.js'
import { isBlobMissing, statusOf, toValetError } from './errors.js'
import { withLeaseBroken } from './leases.js'

/** Metadata that marks a staging blob as an aborted upload's tombstone. */
export const ABORT_MARKER = 'valet_aborted_upload'

export interface Staging {
  blob: BlockBlobClient
  uploadId: string
  signal?: AbortSignal | undefined
}

/** The stored headers a commit applies, and the object will carry. */
export interface ObjectHeaders {
  type: string
  disposition: string | undefined
  metadata: Record<string, string>
}

export function isTombstone(metadata: Record<string, string> | undefined, uploadId: string): boolean {
  return metadata?.[ABORT_MARKER] === uploadId
}

/** Properties of the committed blob, `undefined` when there is none (404). */
export async function readProperties(blob: BlockBlobClient, signal: AbortSignal | undefined, what: string): Promise<BlobGetPropertiesResponse | undefined> {
  try {
    return await blob.getProperties({ abortSignal: signal })
  } catch (error) {
    if (!signal?.aborted && isBlobMissing(error)) return undefined
    throw toValetError(error, `${what} (Get Blob Properties)`, { signal, context: { blob: blob.name } })
  }
}

/**
 * Creates the upload: the open marker, If-None-Match: * so that a retried create never touches a
 * staging blob that already holds parts. A tombstone (an aborted upload with this id, which only
 * an idempotent create sent again can name) is deleted and the upload started afresh.
 */
export async function openStaging(s: Staging): Promise<void> {
  const { blob, signal } = s
  for (let round = 0; round < 3; round++) {
    try {
      await blob.upload(MARKER_BODY, 1, { conditions: { ifNoneMatch: '*' }, abortSignal: signal })
      return
    } catch (error) {
      const status = statusOf(error)
      if (signal?.aborted || (status !== 409 && status !== 412)) throw toValetError(error, 'create (Put Blob)', { signal, context: { blob: blob.name } })
    }
    const props = await readProperties(blob, signal, 'create')
    if (props === undefined) {
      // Azurite answers 409 for a blob that has uncommitted blocks only (Azure would not): left by
      // a key holder after the upload ended. No part of a live upload can be there, so overwrite.
      await withLeaseBroken(blob, signal, () => blob.upload(MARKER_BODY, 1, { abortSignal: signal })).catch((error: unknown) => {
        throw toValetError(error, 'create (Put Blob)', { signal, context: { blob: blob.name } })
      })
      return
    }
    if (!isTombstone(props.metadata, s.uploadId)) return // open already: the same create, sent again
    try {
      await withLeaseBroken(blob, signal, () => blob.delete({ deleteSnapshots: 'include', conditions: { ifMatch: props.etag }, abortSignal: signal }))
    } catch (error) {
      // 404/412: someone changed it meanwhile (a concurrent retry): look again.
      const status = statusOf(error)
      if (signal?.aborted || (status !== 404 && status !== 412)) throw toValetError(error, 'create (Delete Blob)', { signal, context: { blob: blob.name } })
    }
  }
  throw new ValetError('storage_error', 'Azure create: the staging blob kept changing', { context: { blob: blob.name } })
}

/** `open` while the staging blob exists and is no tombstone; `aborted` otherwise. */
export async function stagingState(s: Staging): Promise<'open' | 'aborted'> {
  const props = await readProperties(s.blob, s.signal, 'upload state')
  return props !== undefined && !isTombstone(props.metadata, s.uploadId) ? 'open' : 'aborted'
}

/**
 * This upload's parts on the staging blob, committed (by a complete that did not finish) or not,
 * sorted by part number; an uncommitted block wins over a committed one of the same part.
 * A tombstone or no blob: `upload_not_found`.
 */
export async function stagedParts(s: Staging): Promise<StoredPart[]> {
  const { blob, signal, uploadId } = s
  let list
  try {
    list = await blob.getBlockList('all', { abortSignal: signal })
  } catch (error) {
    if (!signal?.aborted && isBlobMissing(error)) throw new ValetError('upload_not_found', 'this upload no longer exists in storage')
    throw toValetError(error, 'Get Block List', { signal, context: { blob: blob.name } })
  }
  const committed = list.committedBlocks ?? []
  if (committed.length === 1 && committed[0]!.name === markerBlockId(uploadId)) {
    throw new ValetError('upload_not_found', 'this upload was aborted')
  }
  const parts = new Map<number, StoredPart>()
  for (const block of [...committed, ...(list.uncommittedBlocks ?? [])]) {
    const decoded = decodeBlockId(block.name)
    if (decoded && belongsTo(decoded, uploadId)) {
      parts.set(decoded.partNumber, { partNumber: decoded.partNumber, size: block.size, etag: decoded.md5 })
    }
  }
  return [...parts.values()].sort((a, b) => a.partNumber - b.partNumber)
}

/** Commits `ids` on the staging blob with the object's headers; the new ETag. Failures are raw. */
export async function commitStaging(s: Staging, ids: string[], headers: ObjectHeaders): Promise<string | undefined> {
  const { blob, signal } = s
  const committed = await withLeaseBroken(blob, signal, () =>
    blob.commitBlockList(ids, {
      blobHTTPHeaders: { blobContentType: headers.type, blobContentDisposition: headers.disposition },
      metadata: headers.metadata,
      abortSignal: signal,
    }),
  )
  return committed.etag
}

/**
 * Headers Valet never sets. A key holder can set them on the staging blob (Set Blob Properties);
 * Put Block List clears what it does not specify (measured on Azurite), and if a store ever kept
 * them, the copy would carry them to the object: complete refuses such a copy.
 */
export function unplannedHeaders(props: BlobGetPropertiesResponse): string[] {
  const set = { 'Content-Encoding': props.contentEncoding, 'Content-Language': props.contentLanguage, 'Cache-Control': props.cacheControl, 'Content-MD5': props.contentMD5 }
  return Object.entries(set)
    .filter(([, v]) => v !== undefined && v !== null && (typeof v !== 'string' || v !== '') && !(v instanceof Uint8Array && v.length === 0))
    .map(([k]) => k)
}

export interface CommittedStaging extends ObjectHeaders {
  etag: string
  ids: string[]
  /** Headers a key holder set that Valet never sets (see {@link unplannedHeaders}). */
  unplanned: string[]
}

/** What is committed on the staging blob now (one ETag for both reads), or `undefined`. */
export async function committedStaging(s: Staging): Promise<CommittedStaging | undefined> {
  const { blob, signal } = s
  try {
    const [props, list] = await Promise.all([
      blob.getProperties({ abortSignal: signal }),
      blob.getBlockList('committed', { abortSignal: signal }),
    ])
    if (!props.etag || props.etag !== list.etag) return undefined
    return {
      etag: props.etag,
      ids: (list.committedBlocks ?? []).map((b) => b.name),
      type: props.contentType ?? '',
      disposition: props.contentDisposition,
      metadata: props.metadata ?? {},
      unplanned: unplannedHeaders(props),
    }
  } catch (error) {
    if (!signal?.aborted && isBlobMissing(error)) return undefined
    throw toValetError(error, 'complete (read staging blob)', { signal, context: { blob: blob.name } })
  }
}

/**
 * Aborts: commits the marker block alone, which discards every uncommitted block (a part, or
 * anything a key holder staged under any id); then drops snapshots a key holder may have taken.
 * Idempotent, and safe to repeat after a key holder wrote to the blob again.
 */
export async function tombstone(s: Staging): Promise<void> {
  const { blob, signal, uploadId } = s
  const marker = markerBlockId(uploadId)
  try {
    await withLeaseBroken(blob, signal, () =>
      blob.stageBlock(marker, MARKER_BODY, 1, { transactionalContentMD5: Buffer.from(MARKER_MD5, 'base64'), abortSignal: signal }),
    )
    await withLeaseBroken(blob, signal, () => blob.commitBlockList([marker], { metadata: { [ABORT_MARKER]: uploadId }, abortSignal: signal }))
  } catch (error) {
    throw toValetError(error, 'abort', { signal, context: { blob: blob.name } })
  }
  await withLeaseBroken(blob, signal, () => blob.delete({ deleteSnapshots: 'only', abortSignal: signal })).catch(() => {
    if (signal?.aborted) throw signal.reason
    // Best effort: no snapshot, or a failure that a lifecycle rule on .valet/ cleans up later.
  })
}

/** Deletes the staging blob and its snapshots after a complete; best effort (see tombstone). */
export async function removeStaging(s: Staging): Promise<void> {
  const { blob, signal } = s
  await withLeaseBroken(blob, signal, () => blob.delete({ deleteSnapshots: 'include', abortSignal: signal })).catch(() => {
    if (signal?.aborted) throw signal.reason
  })
}
