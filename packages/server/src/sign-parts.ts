import { parseSignPartsRequest, partSizeOf, ValetError, type SignPartsResponse } from '@valet/protocol'
import { verifyClaim, type RouteContext } from './context.js'
import { json, readJson } from './http.js'

/** `POST /uploads/:id/parts`: one key per part, each bound to the planned size and given MD5. */
export async function signParts(ctx: RouteContext): Promise<Response> {
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
  const now = Date.now()
  // A key never outlives the token that allowed it.
  const expiresAt = new Date(Math.min(now + ctx.options.keyTtl * 1000, claim.exp * 1000))
  const parts = await Promise.all(
    body.parts.map((part) =>
      ctx.options.storage.signPart({
        uploadId: claim.uploadId,
        key: claim.key,
        partNumber: part.partNumber,
        size: part.size,
        md5: part.md5,
        expiresAt,
        signal: ctx.request.signal,
      }),
    ),
  )
  const response: SignPartsResponse = { parts, serverTime: new Date(now).toISOString() }
  return json(response)
}
