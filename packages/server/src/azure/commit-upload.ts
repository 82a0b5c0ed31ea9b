/**
 * Complete on Azure: commit the parts on the staging blob, then copy it to the object key with
 * `If-None-Match: *`. The copy is the only write that ever reaches the key, so it is write-once:
 * a second complete, a concurrent one, or a retry finds the object there and either recognizes it
 * (its committed block ids are exactly this upload's parts) or refuses with `object_exists`.
 *
 * Why a copy and not Put Block List at the key: a valet key is a SAS with `w`, which on Azure
 * also allows Put Blob, Put Block List, Set Blob Properties/Metadata, Lease and Snapshot on the
 * blob it names. Signed for the key, it let its holder replace, lease or snapshot the approved
 * object. Signed for the staging blob, the worst a holder can do is spoil their own upload.
 * Copy Blob keeps the committed block list and block ids of a block blob ("When copying from a
 * block blob, all committed blocks and their block IDs are copied", Azure's Copy Blob reference),
 * which is what makes the object recognizable later.
 */
import type { BlobGetPropertiesResponse, BlockBlobClient } from '@azure/storage-blob'
import { ValetError, isValetError } from '@valet/protocol'
import type { StoredObject } from '../storage.js'
import { decodeBlockId, encodeBlockId, md5FromEtag } from './block-id.js'
import { hasAzureCode, isBlobMissing, statusOf, toValetError } from './errors.js'
import { storedObject } from './stored-object.js'
import {
  commitStaging,
  committedStaging,
  readProperties,
  removeStaging,
  stagedParts,
  unplannedHeaders,
  type ObjectHeaders,
  type Staging,
} from './staging-blob.js'

/** Rounds of commit + copy when the staging blob changes in between (a key holder writing to it). */
const MAX_ATTEMPTS = 3
/** How long a complete waits for a pending copy; same-account copies of block blobs rarely pend. */
const COPY_WAIT_MS = 60_000
const COPY_POLL_MS = 250

type Parts = { partNumber: number; etag: string }[]

/** The block ids that make up the object, in part order; `part_mismatch` for lists that cannot be ours. */
export function expectedBlockIds(uploadId: string, parts: Parts): string[] {
  if (parts.length === 0) throw new ValetError('part_mismatch', 'complete needs at least one part')
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
  return sorted.map((part, i) => {
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
}

interface FinalBlob {
  props: BlobGetPropertiesResponse
  ids: string[]
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', stop)
      resolve()
    }
    function stop() {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', stop, { once: true })
  })

const samePath = (a: string | undefined, b: string) => {
  try {
    return a !== undefined && new URL(a).pathname === new URL(b).pathname
  } catch {
    return false
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((id, i) => id === b[i])

/** The blob at the key once no copy into it is pending, with its committed block ids; `undefined` if none. */
async function readFinal(blob: BlockBlobClient, signal: AbortSignal | undefined): Promise<FinalBlob | undefined> {
  let props = await readProperties(blob, signal, 'complete')
  for (const deadline = Date.now() + COPY_WAIT_MS; props?.copyStatus === 'pending'; props = await readProperties(blob, signal, 'complete')) {
    if (Date.now() > deadline) {
      throw new ValetError('storage_error', 'Azure: the copy to the object key is still pending; retry complete later', { context: { key: blob.name } })
    }
    await sleep(COPY_POLL_MS, signal)
  }
  if (props === undefined) return undefined
  try {
    const list = await blob.getBlockList('committed', { abortSignal: signal })
    return { props, ids: (list.committedBlocks ?? []).map((b) => b.name) }
  } catch (error) {
    if (!signal?.aborted && isBlobMissing(error)) return undefined
    throw toValetError(error, 'Get Block List', { signal, context: { key: blob.name } })
  }
}

/**
 * Deletes the blob, with its snapshots, if it still has `etag`; 404 (gone) and 412 (changed since:
 * not the blob we looked at any more) are success. Snapshots go too: a key holder may have taken
 * some (`w` and `c` allow Snapshot Blob), and Delete Blob without them answers 409.
 */
export async function deleteIfMatch(blob: BlockBlobClient, etag: string | undefined, signal: AbortSignal | undefined): Promise<void> {
  try {
    await blob.delete({ deleteSnapshots: 'include', conditions: { ifMatch: etag }, abortSignal: signal })
  } catch (error) {
    const status = statusOf(error)
    if (signal?.aborted || (status !== 404 && status !== 412)) throw toValetError(error, 'Delete Blob', { signal, context: { key: blob.name } })
  }
}

/**
 * The object at the key if this upload committed it with exactly `ids`; `undefined` when there is
 * none (a copy of this upload that failed is deleted first, so the complete can run again);
 * `object_exists` when anything else is there. `ids` undefined: the client's list cannot be ours.
 */
export async function findCommitted(final: BlockBlobClient, staging: Staging, ids: string[] | undefined): Promise<StoredObject | undefined> {
  const { signal } = staging
  const found = await readFinal(final, signal)
  if (found === undefined) return undefined
  const { props } = found
  if ((props.copyStatus === 'failed' || props.copyStatus === 'aborted') && samePath(props.copySource, staging.blob.url)) {
    await deleteIfMatch(final, props.etag, signal)
    return undefined
  }
  if (ids !== undefined && sameList(found.ids, ids)) return storedObject(final, props)
  throw new ValetError('object_exists', 'an object already exists at this key, and uploads never overwrite one', { context: { key: final.name } })
}

export interface CommitPlan extends ObjectHeaders {
  final: BlockBlobClient
  staging: Staging
  ids: string[]
}

/** Commits the parts on the staging blob (or keeps an identical commit already there); its ETag. */
async function stage(plan: CommitPlan, reuse: boolean): Promise<string | undefined> {
  const { staging, ids } = plan
  if (reuse) {
    const current = await committedStaging(staging)
    if (current && current.unplanned.length === 0 && sameList(current.ids, ids) && current.type === plan.type && current.disposition === plan.disposition) {
      const a = Object.entries(current.metadata).sort()
      const b = Object.entries(plan.metadata).sort()
      if (a.length === b.length && a.every(([k, v], i) => k.toLowerCase() === b[i]![0] && v === b[i]![1])) return current.etag
    }
  }
  try {
    return await commitStaging(staging, ids, plan)
  } catch (error) {
    if (staging.signal?.aborted || !hasAzureCode(error, 'InvalidBlockList')) {
      throw toValetError(error, 'complete (Put Block List)', { signal: staging.signal, context: { blob: staging.blob.name } })
    }
    // A block the client named is not stored: tell a wrong part from a vanished upload.
    const stored = await stagedParts(staging).catch(() => [])
    if (stored.length === 0) throw new ValetError('upload_not_found', 'no part of this upload is stored (aborted, or completed)', { cause: error })
    const have = new Set(stored.map((p) => encodeBlockId(staging.uploadId, p.partNumber, p.etag)))
    const missing = ids.filter((id) => !have.has(id)).map((id) => decodeBlockId(id)?.partNumber)
    throw new ValetError('part_mismatch', `parts ${missing.join(', ')} are not stored with those etags (MD5)`, { cause: error, context: { missing } })
  }
}

/** Copies staging → key, write-once, only the staging commit with `etag`; `lost` if the key or the source changed first. */
async function copy(plan: CommitPlan, etag: string | undefined): Promise<'copied' | 'lost'> {
  const { final, staging } = plan
  const { signal } = staging
  try {
    const poller = await final.beginCopyFromURL(staging.blob.url, {
      conditions: { ifNoneMatch: '*' },
      sourceConditions: { ifMatch: etag },
      abortSignal: signal,
    })
    const status = poller.getOperationState().result?.copyStatus
    if (status === 'success' || status === 'pending') return 'copied' // readFinal waits for a pending one
    throw new ValetError('storage_error', `Azure Copy Blob answered copy status ${String(status)}`, { context: { key: final.name } })
  } catch (error) {
    if (isValetError(error)) throw error
    const status = statusOf(error)
    // 409/412 at the key: a concurrent complete won; 412 at the source: it changed since our
    // commit; 404: the source is gone (a concurrent complete finished and cleaned up).
    if (!signal?.aborted && (status === 404 || status === 409 || status === 412)) return 'lost'
    throw toValetError(error, 'complete (Copy Blob)', { signal, context: { key: final.name } })
  }
}

/** Commits the upload at its key, write-once, and returns the object as stored. */
export async function commitUpload(plan: CommitPlan): Promise<StoredObject> {
  const { final, staging, ids } = plan
  const { signal } = staging
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let etag: string | undefined
    try {
      etag = await stage(plan, attempt > 1)
    } catch (error) {
      // The parts are gone from staging when a concurrent complete already copied and cleaned up.
      if (!isValetError(error) || (error.code !== 'upload_not_found' && error.code !== 'part_mismatch')) throw error
      const done = await findCommitted(final, staging, ids)
      if (done) return done
      throw error
    }
    if ((await copy(plan, etag)) === 'lost') {
      const done = await findCommitted(final, staging, ids)
      if (done) {
        await removeStaging(staging)
        return done
      }
      continue
    }
    const found = await readFinal(final, signal)
    const extra = found ? unplannedHeaders(found.props) : []
    if (found === undefined || found.props.copyStatus !== 'success' || !sameList(found.ids, ids) || extra.length > 0) {
      // Never leave an object at the key that is not exactly the parts and the planned headers.
      if (found) await deleteIfMatch(final, found.props.etag, signal)
      throw new ValetError('storage_error', 'Azure: the copied object is not exactly the committed parts and headers; nothing was kept', {
        context: { key: final.name, copyStatus: found?.props.copyStatus, unplannedHeaders: extra },
      })
    }
    await removeStaging(staging)
    return storedObject(final, found.props)
  }
  throw new ValetError('storage_error', 'Azure complete: the staging blob kept changing (a valet key still in use?); retry complete', {
    context: { key: final.name },
  })
}
