import {
  RESERVED_META_PREFIX,
  parseCompleteUploadRequest,
  partSizeOf,
  sameEtag,
  ValetError,
  type CompleteUploadRequest,
  type CompleteUploadResponse,
  type CompletedPart,
  type StoredPart,
} from '@valet/protocol'
import { CompletionReceipt } from './completion-receipt.js'
import { essence } from './content-types.js'
import { uploadRef, verifyClaim, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import { json, readJson } from './http.js'
import type { CommitRef, StoredObject } from './storage.js'
import type { UploadClaim } from './token.js'
import { isSingle, singleObject, singleParts } from './single-put.js'
import { manifestName, partManifest } from './part-manifest.js'

/** The client's list must name every planned part once, and nothing beyond the plan. */
function checkCompleteList(claim: UploadClaim, parts: CompletedPart[]): CompletedPart[] {
  const claimed = new Map(parts.map((p) => [p.partNumber, p.etag]))
  for (const n of claimed.keys()) {
    if (n > claim.partCount) throw new ValetError('invalid_part', `part ${n} is beyond the plan of ${claim.partCount} parts`)
  }
  for (let n = 1; n <= claim.partCount; n++) {
    if (!claimed.has(n)) {
      throw new ValetError('part_mismatch', `part ${n} of ${claim.partCount} is missing from the complete request`, { context: { partNumber: n } })
    }
  }
  return [...parts].sort((a, b) => a.partNumber - b.partNumber)
}

/** Every claimed part must be in storage with its planned size and the ETag the client saw. */
function checkStoredParts(claim: UploadClaim, claimed: CompletedPart[], stored: Map<number, StoredPart>): void {
  for (const { partNumber: n, etag } of claimed) {
    const part = stored.get(n)
    if (!part) throw new ValetError('part_mismatch', `part ${n} was never uploaded`, { context: { partNumber: n } })
    const expected = partSizeOf(claim, n)
    if (part.size !== expected) {
      throw new ValetError('size_mismatch', `part ${n} in storage is ${part.size} bytes, the plan says ${expected}`, {
        context: { partNumber: n, expected, size: part.size },
      })
    }
    if (!sameEtag(part.etag, etag)) {
      throw new ValetError('part_mismatch', `part ${n} in storage has ETag ${part.etag}, not ${etag}`, { context: { partNumber: n } })
    }
  }
}

/**
 * The committed object must be exactly what the token planned: size, type, disposition and
 * metadata (Valet's own `valet_*` keys aside). Anything else — a store that dropped a header,
 * something a part request slipped in — and `onComplete` does not run.
 */
function checkCommitted(claim: UploadClaim, object: StoredObject): void {
  const problems: string[] = []
  if (object.size !== claim.size) problems.push(`${object.size} bytes, not ${claim.size}`)
  if (essence(object.type ?? '') !== essence(claim.type)) problems.push(`type ${object.type ?? '(none)'}, not ${claim.type}`)
  if ((object.disposition ?? '').trim() !== (claim.disposition ?? '')) {
    problems.push(`Content-Disposition ${object.disposition ?? '(none)'}, not ${claim.disposition ?? '(none)'}`)
  }
  const stored = Object.entries(object.metadata).filter(([k]) => !k.startsWith(RESERVED_META_PREFIX))
  const planned = Object.entries(claim.metadata)
  const same = stored.length === planned.length && planned.every(([k, v]) => object.metadata[k] === v)
  if (!same) problems.push(`metadata ${JSON.stringify(Object.fromEntries(stored))}, not ${JSON.stringify(claim.metadata)}`)
  if (problems.length > 0) {
    const code = object.size !== claim.size ? 'size_mismatch' : 'storage_error'
    throw new ValetError(code, `the stored object differs from the upload's plan (${problems.join('; ')}): onComplete was not run`, {
      context: { expected: claim.size, size: object.size, problems },
    })
  }
}

/** Commits (or finds this upload's earlier commit of) the object, checked against the plan. */
async function commit<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim, ref: CommitRef): Promise<StoredObject> {
  const { storage } = ctx.options
  let object = await storage.findCommitted(ref)
  if (object === undefined) {
    const stored = new Map((await storage.listParts(ref)).map((p) => [p.partNumber, p]))
    checkStoredParts(claim, ref.parts, stored)
    const parts = ref.parts.map(({ partNumber }) => ({ partNumber, etag: stored.get(partNumber)!.etag }))
    object = await storage.complete({ ...ref, parts, type: claim.type, disposition: claim.disposition, metadata: claim.metadata })
  }
  checkCommitted(claim, object)
  await recordManifest(ctx, claim, ref, object)
  return object
}

/**
 * Records the part size and part MD5s beside the committed object, for verified downloads (see
 * part-manifest.ts). The parts are the ones just checked against storage (or, for an earlier
 * commit found again, against the object's ETag or block list), so their MD5s are the ones
 * storage verified at each PUT. Writing it again on a repeated complete writes the same bytes.
 */
async function recordManifest<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim, ref: CommitRef, object: StoredObject): Promise<void> {
  const manifest = partManifest(claim.key, object, claim.partSize, ref.parts)
  if (!manifest) return
  await ctx.options.storage.records.write(await manifestName(claim.key), JSON.stringify(manifest), ctx.request.signal)
}

/**
 * A single-PUT upload was committed by its PUT: the object must be there and hold exactly the
 * bytes the token names (size and MD5), then the plan's checks apply as for multipart.
 */
async function verifySingle<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim & { md5: string }): Promise<StoredObject> {
  const object = await singleObject(ctx, claim)
  if (object === undefined) throw new ValetError('part_mismatch', 'part 1 was never uploaded', { context: { partNumber: 1 } })
  checkCommitted(claim, object)
  return object
}

async function completeOnce<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim, ref: CommitRef): Promise<CompleteUploadResponse> {
  const { onComplete, storage } = ctx.options
  const receipt = onComplete ? await CompletionReceipt.of(storage.records, claim.uploadId, ref.parts, ctx.request.signal, ctx.options.now) : undefined
  const earlier = await receipt?.finished()
  if (earlier) return earlier
  const object = isSingle(claim) ? await verifySingle(ctx, claim) : await commit(ctx, claim, ref)
  const response: CompleteUploadResponse = { key: claim.key, size: object.size, etag: object.etag, location: object.location }
  if (!onComplete || !receipt) return response
  return receipt.runOnce(
    async () =>
      onComplete({
        principal: ctx.principal,
        key: claim.key,
        size: object.size,
        etag: object.etag,
        type: claim.type,
        metadata: claim.metadata,
        location: object.location,
        uploadId: claim.uploadId,
        request: ctx.request,
      }),
    response,
  )
}

/**
 * `POST /uploads/:id/complete`: checks the client's part list against storage, commits
 * write-once, checks the committed object against the plan, then runs `onComplete` at most once
 * per upload. A repeated complete (a lost answer, a concurrent call) gets the same answer and
 * commits nothing again.
 */
export async function completeUpload<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  return json(await completeOne(ctx, parseCompleteUploadRequest(await readJson(ctx.request))))
}

/** One complete, parsed: what `POST /uploads/:id/complete` answers, and each item of a batch. */
export async function completeOne<P extends Principal>(ctx: RouteContext<P>, body: CompleteUploadRequest): Promise<CompleteUploadResponse> {
  const claim = await verifyClaim(ctx, body.token)
  const listed = checkCompleteList(claim, body.parts)
  // A single PUT's part is its MD5 as the token says, whatever etag the client saw (Azure's
  // Put Blob answers a version etag): receipts and retries then agree on it.
  const ref: CommitRef = { ...uploadRef(ctx, claim), parts: isSingle(claim) ? singleParts(claim) : listed }
  // Concurrent completes of one upload in this process share one run.
  const flight = `${claim.uploadId}\n${JSON.stringify(ref.parts)}`
  let running = ctx.completions.get(flight)
  if (!running) {
    running = completeOnce(ctx, claim, ref).finally(() => ctx.completions.delete(flight))
    ctx.completions.set(flight, running)
  }
  return running
}
