import { isValetError, parseCompleteUploadRequest, partSizeOf, ValetError, type CompleteUploadResponse, type CompletedPart } from '@valet/protocol'
import { sameEtag, verifyClaim, type RouteContext } from './context.js'
import { json, readJson } from './http.js'
import { multipartEtag } from './multipart-etag.js'
import type { UploadClaim } from './token.js'
import type { StoredPart } from '@valet/protocol'

type Committed = { etag: string; size: number; location: string }

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
 * A complete retried after its first answer was lost finds the upload gone (S3). If the object
 * at the key has the plan's size and the multipart ETag of exactly the claimed parts, the first
 * attempt committed it: answer as if this one had.
 */
async function alreadyCommitted(ctx: RouteContext, claim: UploadClaim, claimed: CompletedPart[]): Promise<Committed | undefined> {
  const { storage } = ctx.options
  if (!storage.stat) return undefined
  const expected = multipartEtag(claimed.map((p) => p.etag))
  const object = await storage.stat({ uploadId: claim.uploadId, key: claim.key, signal: ctx.request.signal })
  if (!object || !expected || object.size !== claim.size || !sameEtag(object.etag, expected)) return undefined
  return object
}

/**
 * `POST /uploads/:id/complete`: checks the client's part list against storage, commits, checks
 * the final size, then runs `onComplete`.
 */
export async function completeUpload(ctx: RouteContext): Promise<Response> {
  const body = parseCompleteUploadRequest(await readJson(ctx.request))
  const claim = await verifyClaim(ctx, body.token)
  const claimed = checkCompleteList(claim, body.parts)
  const { storage } = ctx.options
  const ref = { uploadId: claim.uploadId, key: claim.key, signal: ctx.request.signal }

  let done: Committed
  try {
    const stored = new Map((await storage.listParts(ref)).map((p) => [p.partNumber, p]))
    checkStoredParts(claim, claimed, stored)
    const parts = claimed.map(({ partNumber }) => ({ partNumber, etag: stored.get(partNumber)!.etag }))
    done = await storage.complete({ ...ref, parts, type: claim.type, metadata: claim.metadata })
  } catch (error) {
    const committed = isValetError(error) && error.code === 'upload_not_found' ? await alreadyCommitted(ctx, claim, claimed) : undefined
    if (!committed) throw error
    done = committed
  }
  if (done.size !== claim.size) {
    throw new ValetError('size_mismatch', `stored object is ${done.size} bytes, expected ${claim.size}`, {
      context: { expected: claim.size, size: done.size },
    })
  }
  const response: CompleteUploadResponse = { key: claim.key, size: done.size, etag: done.etag, location: done.location }
  if (ctx.options.onComplete) {
    // Runs again on a retried complete: make it idempotent per key (e.g. an upsert).
    const result = await ctx.options.onComplete({
      principal: ctx.principal,
      key: claim.key,
      size: done.size,
      etag: done.etag,
      type: claim.type,
      metadata: claim.metadata,
      location: done.location,
      uploadId: claim.uploadId,
      request: ctx.request,
    })
    if (result !== undefined) response.result = result
  }
  return json(response)
}
