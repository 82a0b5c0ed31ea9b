import type { ContainerClient } from '@azure/storage-blob'
import { isUploadId } from './block-id.js'
import { stagingPrefix } from './blob-names.js'
import { toValetError } from './errors.js'
import { isTombstone } from './staging-blob.js'

/**
 * Open uploads of `owner`: its staging blobs that are not tombstones, counted from one listing of
 * `.valet/staging/<owner>/` (with metadata, to tell tombstones), stopping at `limit`. Blobs with
 * uncommitted blocks only are not listed: every open upload has a committed marker from create,
 * while such a blob is what a key holder left after the upload ended, and no key is signed for it
 * again (`uploadState` says `aborted` or `completed` for it too).
 */
export async function countOpenUploads(container: ContainerClient, owner: string, limit: number, signal?: AbortSignal): Promise<number> {
  const prefix = stagingPrefix(owner)
  if (!(limit > 0)) return 0
  let open = 0
  try {
    const pages = container
      .listBlobsFlat({ prefix, includeMetadata: true, abortSignal: signal })
      .byPage({ maxPageSize: Math.min(5000, Number.isFinite(limit) ? Math.max(1, Math.ceil(limit)) : 5000) })
    for await (const page of pages) {
      for (const item of page.segment.blobItems) {
        const uploadId = item.name.slice(prefix.length)
        if (!isUploadId(uploadId) || isTombstone(item.metadata, uploadId)) continue
        if (++open >= limit) return open
      }
    }
  } catch (error) {
    throw toValetError(error, 'count open uploads (List Blobs)', { signal, context: { prefix } })
  }
  return open
}
