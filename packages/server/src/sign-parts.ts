import { parseSignPartsRequest, partSizeOf, ValetError, type PartToSign, type SignPartsResponse } from '@valet/protocol'
import { keyExpiry, requireOpen, uploadRef, verifyClaim, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import { json, readJson } from './http.js'
import { isSingle, signSingle, singleObject } from './single-put.js'
import type { UploadClaim } from './token.js'

/**
 * A single-PUT upload's key again (the first came with create): the same PUT, that MD5 only,
 * until the object is there — then the token is spent like a completed multipart upload's.
 */
async function signSingleAgain<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim & { md5: string }, parts: PartToSign[]): Promise<SignPartsResponse> {
  if (parts.length !== 1 || parts[0]!.md5 !== claim.md5) {
    throw new ValetError('invalid_part', 'a single-PUT upload has one part, with the MD5 sent at create', { context: { partNumber: parts[0]?.partNumber ?? 0 } })
  }
  if ((await singleObject(ctx, claim)) !== undefined) {
    throw new ValetError('upload_not_found', `upload ${claim.uploadId} is stored: complete it; its token signs nothing any more`, { context: { state: 'completed' } })
  }
  const now = ctx.options.now()
  const part = await signSingle(ctx, claim, uploadRef(ctx, claim), now)
  if (!part) throw new ValetError('storage_error', `the ${ctx.options.storage.name} provider no longer signs single PUTs for ${claim.key}`)
  return { parts: [part], serverTime: new Date(now).toISOString() }
}

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
  if (isSingle(claim)) return json(await signSingleAgain(ctx, claim, body.parts))
  const ref = await requireOpen(ctx, claim)
  const now = ctx.options.now()
  const expiresAt = keyExpiry(ctx.options, claim.exp, now)
  const parts = await Promise.all(
    body.parts.map((part) => ctx.options.storage.signPart({ ...ref, partNumber: part.partNumber, size: part.size, md5: part.md5, expiresAt })),
  )
  const response: SignPartsResponse = { parts, serverTime: new Date(now).toISOString() }
  return json(response)
}
