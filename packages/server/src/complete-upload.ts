import { parseCompleteUploadRequest, partSizeOf, ValetError, type CompleteUploadResponse } from '@valet/protocol'
import { sameEtag, verifyClaim, type RouteContext } from './context.js'
import { json, readJson } from './http.js'

/**
 * `POST /uploads/:id/complete`: the client's part list must name every planned part, and each
 * must be in storage with the planned size and the ETag the client saw. Only then is the
 * upload committed, and the final size checked once more.
 */
export async function completeUpload(ctx: RouteContext): Promise<Response> {
  const body = parseCompleteUploadRequest(await readJson(ctx.request))
  const claim = await verifyClaim(ctx, body.token)
  const claimed = new Map(body.parts.map((p) => [p.partNumber, p.etag]))
  for (const n of claimed.keys()) {
    if (n > claim.partCount) throw new ValetError('invalid_part', `part ${n} is beyond the plan of ${claim.partCount} parts`)
  }
  for (let n = 1; n <= claim.partCount; n++) {
    if (!claimed.has(n)) {
      throw new ValetError('part_mismatch', `part ${n} of ${claim.partCount} is missing from the complete request`, { context: { partNumber: n } })
    }
  }
  const { storage } = ctx.options
  const ref = { uploadId: claim.uploadId, key: claim.key, signal: ctx.request.signal }
  const stored = new Map((await storage.listParts(ref)).map((p) => [p.partNumber, p]))
  for (const [n, etag] of claimed) {
    const part = stored.get(n)
    if (!part) throw new ValetError('part_mismatch', `part ${n} was never uploaded`, { context: { partNumber: n } })
    const expected = partSizeOf(claim, n)
    if (part.size !== expected) {
      throw new ValetError('size_mismatch', `part ${n} in storage is ${part.size} bytes, the plan says ${expected}`, {
        context: { partNumber: n, expected, size: part.size },
      })
    }
    // Providers that cannot report a part's ETag (Azure) return '' and rely on size + Content-MD5.
    if (part.etag !== '' && !sameEtag(part.etag, etag)) {
      throw new ValetError('part_mismatch', `part ${n} in storage has ETag ${part.etag}, not ${etag}`, { context: { partNumber: n } })
    }
  }
  const ordered = [...claimed].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag: stored.get(partNumber)!.etag || etag }))
  const done = await storage.complete({ ...ref, parts: ordered, type: claim.type, metadata: claim.metadata })
  if (done.size !== claim.size) {
    throw new ValetError('size_mismatch', `stored object is ${done.size} bytes, expected ${claim.size}`, {
      context: { expected: claim.size, size: done.size },
    })
  }
  const response: CompleteUploadResponse = { key: claim.key, size: done.size, etag: done.etag, location: done.location }
  if (ctx.options.onComplete) {
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
