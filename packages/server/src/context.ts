import { ValetError } from '@valet/protocol'
import type { Principal } from './object-key.js'
import type { NormalizedOptions } from './options.js'
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
}

/**
 * Verifies a token for the upload named in the path and the principal making the request:
 * a genuine token for another upload or another user is refused like a forged one.
 */
export async function verifyClaim(ctx: RouteContext, token: string): Promise<UploadClaim> {
  const claim = await ctx.signer.verify(token)
  if (claim.uploadId !== ctx.uploadId) {
    throw new ValetError('token_invalid', 'upload token belongs to another upload')
  }
  if (claim.principal !== ctx.principal.id) {
    throw new ValetError('forbidden', 'upload token belongs to another principal')
  }
  return claim
}

/** Storage reports ETags quoted (S3) or bare; compare them without quotes or case. */
export function sameEtag(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase()
  return norm(a) === norm(b)
}
