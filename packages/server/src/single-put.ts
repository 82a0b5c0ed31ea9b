/**
 * Single-PUT uploads: a file that fits one part goes to storage in one PUT of the object, signed
 * at create (docs/protocol.md, "Single-PUT uploads"). The object exists once that PUT lands, so
 * these helpers read storage where a multipart upload would ask about its upload id.
 */
import { ValetError, base64ToHex, type CompletedPart, type CreateUploadResponse, type SignedPart } from '@valet/protocol'
import { CompletionReceipt } from './completion-receipt.js'
import { keyExpiry, type RouteContext } from './context.js'
import type { Principal } from './object-key.js'
import type { StoredObject, UploadRef } from './storage.js'
import type { UploadClaim } from './token.js'

/** Upload ids of single-PUT uploads: no store's multipart ids look like this. */
export const SINGLE_PREFIX = 'single-'

export function isSingle(claim: UploadClaim): claim is UploadClaim & { md5: string } {
  return claim.md5 !== undefined
}

/** The one part of a single-PUT upload as complete and the receipts name it: its MD5, not a client's etag. */
export function singleParts(claim: UploadClaim & { md5: string }): CompletedPart[] {
  return [{ partNumber: 1, etag: base64ToHex(claim.md5) }]
}

/** Signs the PUT of a single-PUT claim, or `undefined` where the provider can't make it safe. */
export async function signSingle<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim & { md5: string }, ref: UploadRef, now: number): Promise<SignedPart | undefined> {
  const single = ctx.options.storage.singlePut
  if (!single) return undefined
  return single.sign({
    key: claim.key,
    owner: ref.owner,
    uploadId: claim.uploadId,
    size: claim.size,
    md5: claim.md5,
    type: claim.type,
    disposition: claim.disposition,
    metadata: claim.metadata,
    expiresAt: keyExpiry(ctx.options, claim.exp, now),
    unique: claim.unique === true,
    signal: ref.signal,
  })
}

/**
 * Whether `object` holds exactly this upload's bytes: its size, and the MD5 storage recorded.
 * A store that records none for this object (S3 with SSE-KMS: the ETag is not an MD5) can only
 * be trusted on size, and keys unique to the upload.
 */
export function holdsUpload(claim: UploadClaim & { md5: string }, object: StoredObject): boolean {
  if (object.size !== claim.size) return false
  return object.md5 === undefined ? claim.unique === true : object.md5 === claim.md5
}

/** The stored object of a single-PUT upload, checked to be its bytes; `undefined` before the PUT landed. */
export async function singleObject<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim & { md5: string }): Promise<StoredObject | undefined> {
  const object = await ctx.options.storage.stat({ key: claim.key, signal: ctx.request.signal })
  if (object === undefined) return undefined
  if (!holdsUpload(claim, object)) {
    throw new ValetError('object_exists', `another object is at ${claim.key} (objects are never overwritten)`, { context: { key: claim.key } })
  }
  return object
}

/**
 * Abort of a single-PUT upload: the object goes only while no complete was recorded for it. A
 * receipt is that record, and exists only with `onComplete`; without one the server cannot tell,
 * so a landed object stays (it may have been handed out as complete).
 */
export async function abortSingle<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim & { md5: string }): Promise<void> {
  const { storage, onComplete } = ctx.options
  if (!onComplete || !storage.singlePut) return
  let object: StoredObject | undefined
  try {
    object = await singleObject(ctx, claim)
  } catch (e) {
    if (e instanceof ValetError && e.code === 'object_exists') return
    throw e
  }
  if (object === undefined) return
  const receipt = await CompletionReceipt.of(storage.records, claim.uploadId, singleParts(claim), ctx.request.signal, ctx.options.now)
  if (await receipt.started()) return
  await storage.singlePut.remove({ key: claim.key, etag: object.etag, signal: ctx.request.signal })
}

/** The create answer of a single-PUT upload: its key comes with it. */
export function singleResponse(base: CreateUploadResponse, part: SignedPart, now: number): CreateUploadResponse {
  return { ...base, mode: 'single', parts: [part], serverTime: new Date(now).toISOString() }
}
