import { ValetError, type CompleteUploadResponse } from '@valet/protocol'
import type { Principal } from './object-key.js'
import { principalPrefix } from './object-key.js'
import type { NormalizedOptions } from './options.js'
import type { UploadRef } from './storage.js'
import type { TokenSigner, UploadClaim } from './token.js'
import type { UniqueIds } from './unique-ids.js'

/** What every route handler gets: the request, its principal, options and the token signer. */
export interface RouteContext<P extends Principal = Principal> {
  request: Request
  principal: P
  options: NormalizedOptions<P>
  signer: TokenSigner
  uniqueIds: UniqueIds
  /** Upload id from the path, for routes under `/uploads/:id`. */
  uploadId: string
  /** Completes running in this process, by upload and part list: concurrent ones share a run. */
  completions: Map<string, Promise<CompleteUploadResponse>>
}

/**
 * Verifies a token for the upload named in the path and the principal making the request:
 * a genuine token for another upload or another user is refused like a forged one.
 */
export async function verifyClaim<P extends Principal>(ctx: RouteContext<P>, token: string): Promise<UploadClaim> {
  const claim = await ctx.signer.verify(token, ctx.options.now())
  if (claim.uploadId !== ctx.uploadId) {
    throw new ValetError('token_invalid', 'upload token belongs to another upload')
  }
  if (claim.principal !== ctx.principal.id) {
    throw new ValetError('forbidden', 'upload token belongs to another principal')
  }
  return claim
}

/** The storage reference of a verified claim. */
export function uploadRef<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim): UploadRef {
  return { uploadId: claim.uploadId, key: claim.key, owner: principalPrefix(claim.principal), signal: ctx.request.signal }
}

/**
 * A token is spent once its upload ended: storage, the only state there is, says whether it
 * did. Keys are signed and parts listed only for an open upload.
 */
export async function requireOpen<P extends Principal>(ctx: RouteContext<P>, claim: UploadClaim): Promise<UploadRef> {
  const ref = uploadRef(ctx, claim)
  const state = await ctx.options.storage.uploadState(ref)
  if (state !== 'open') {
    throw new ValetError('upload_not_found', `upload ${claim.uploadId} was ${state}: its token signs and lists nothing any more`, {
      context: { state },
    })
  }
  return ref
}

/**
 * When a key signed at `now` stops working: `keyTtl` later, and never after the token that
 * allowed it (`exp`, epoch seconds).
 */
export function keyExpiry(options: Pick<NormalizedOptions, 'keyTtlMs'>, exp: number, now: number): Date {
  return new Date(Math.min(now + options.keyTtlMs, exp * 1000))
}
