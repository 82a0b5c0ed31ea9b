import { parseTokenHeader, TOKEN_HEADER, type ListPartsResponse } from '@valet/protocol'
import { verifyClaim, type RouteContext } from './context.js'
import { json } from './http.js'

/** `GET /uploads/:id/parts`: what storage holds — the source of truth for resume. */
export async function listParts(ctx: RouteContext): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  const stored = await ctx.options.storage.listParts({ uploadId: claim.uploadId, key: claim.key, signal: ctx.request.signal })
  const response: ListPartsResponse = { parts: stored.filter((p) => p.partNumber <= claim.partCount) }
  return json(response)
}

/** `DELETE /uploads/:id`: aborts the storage upload and frees its parts. */
export async function abortUpload(ctx: RouteContext): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  await ctx.options.storage.abort({ uploadId: claim.uploadId, key: claim.key, signal: ctx.request.signal })
  return new Response(null, { status: 204 })
}
