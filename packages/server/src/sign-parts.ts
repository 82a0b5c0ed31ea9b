import { parseSignPartsRequest, partSizeOf, ValetError, type SignPartsResponse } from '@valet/protocol'
import { requireOpen, verifyClaim, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import { json, readJson } from './http.js'

/**
 * `POST /uploads/:id/parts`: one key per part, each bound to the planned size and given MD5, and
 * only while the upload is open in storage: a token whose upload completed or was aborted is
 * spent.
 */
export async function signParts<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const body = parseSignPartsRequest(await readJson(ctx.request))
  const claim = await verifyClaim(ctx, body.token)
  for (const part of body.parts) {
    if (part.partNumber > claim.partCount) {
      throw new ValetError('invalid_part', `part ${part.partNumber} is beyond the plan of ${claim.partCount} parts`, {
        context: { partNumber: part.partNumber },
      })
    }
    const expected = partSizeOf(claim, part.partNumber)
    if (part.size !== expected) {
      throw new ValetError('invalid_part', `part ${part.partNumber} must be ${expected} bytes, not ${part.size}`, {
        context: { partNumber: part.partNumber, expected, size: part.size },
      })
    }
  }
  const ref = await requireOpen(ctx, claim)
  const now = ctx.options.now()
  // A key never outlives the token that allowed it.
  const expiresAt = new Date(Math.min(now + ctx.options.keyTtlMs, claim.exp * 1000))
  const parts = await Promise.all(
    body.parts.map((part) => ctx.options.storage.signPart({ ...ref, partNumber: part.partNumber, size: part.size, md5: part.md5, expiresAt })),
  )
  const response: SignPartsResponse = { parts, serverTime: new Date(now).toISOString() }
  return json(response)
}
