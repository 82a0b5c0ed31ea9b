import { isValetError, parseTokenHeader, TOKEN_HEADER, type ListPartsResponse } from '@valet/protocol'
import { requireOpen, uploadRef, verifyClaim, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import { json } from './http.js'
import { abortSingle, isSingle, singleObject, singleParts } from './single-put.js'

/** `GET /uploads/:id/parts`: what storage holds — the source of truth for resume. Open uploads only. */
export async function listParts<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  if (isSingle(claim)) {
    // Another object at the key is not this upload's part: complete will say object_exists.
    const object = await singleObject(ctx, claim).catch((e: unknown) => {
      if (isValetError(e) && e.code === 'object_exists') return undefined
      throw e
    })
    // The part's etag in S3's form (quoted hex MD5) on every store: the bytes were checked to be
    // the token's, and a client matches its part by MD5 (Azure's Put Blob answers a version etag).
    const parts = object === undefined ? [] : singleParts(claim).map((p) => ({ ...p, size: object.size, etag: `"${p.etag}"` }))
    return json({ parts } satisfies ListPartsResponse)
  }
  const ref = await requireOpen(ctx, claim)
  const stored = await ctx.options.storage.listParts(ref)
  const response: ListPartsResponse = { parts: stored.filter((p) => p.partNumber <= claim.partCount) }
  return json(response)
}

/** `DELETE /uploads/:id`: aborts the storage upload and frees its parts; a committed object is never touched. */
export async function abortUpload<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  if (isSingle(claim)) await abortSingle(ctx, claim)
  else await ctx.options.storage.abort(uploadRef(ctx, claim))
  return new Response(null, { status: 204 })
}
