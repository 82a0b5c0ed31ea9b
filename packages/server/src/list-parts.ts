import { parseTokenHeader, TOKEN_HEADER, type ListPartsResponse } from '@valet/protocol'
import { requireOpen, uploadRef, verifyClaim, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import { json } from './http.js'

/** `GET /uploads/:id/parts`: what storage holds — the source of truth for resume. Open uploads only. */
export async function listParts<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  const ref = await requireOpen(ctx, claim)
  const stored = await ctx.options.storage.listParts(ref)
  const response: ListPartsResponse = { parts: stored.filter((p) => p.partNumber <= claim.partCount) }
  return json(response)
}

/** `DELETE /uploads/:id`: aborts the storage upload and frees its parts; a committed object is never touched. */
export async function abortUpload<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const claim = await verifyClaim(ctx, parseTokenHeader(ctx.request.headers.get(TOKEN_HEADER)))
  await ctx.options.storage.abort(uploadRef(ctx, claim))
  return new Response(null, { status: 204 })
}
