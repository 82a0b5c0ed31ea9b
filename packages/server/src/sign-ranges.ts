import { ValetError, parseSignRangesRequest, type SignRangesResponse } from '@valet/protocol'
import { keyExpiry, type RouteContext } from './context.js'
import { json, readJson } from './http.js'
import type { Principal } from './object-key.js'
import { allowRead, readingOn } from './read-access.js'

/**
 * `POST /downloads/ranges` `{ token, ranges }`: read keys for byte ranges of the object the
 * token was opened for, each bound to that object (and, where the store can, to that range and
 * ETag). `canRead` is asked again, so revoked access stops here; no storage call is made.
 */
export async function signRanges<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  readingOn(ctx)
  const body = parseSignRangesRequest(await readJson(ctx.request))
  const { signer, options } = ctx
  const claim = await signer.verifyDownload(body.token, options.now())
  if (claim.principal !== ctx.principal.id) throw new ValetError('forbidden', 'download token belongs to another principal')
  const beyond = body.ranges.findIndex((r) => r.end > claim.size)
  if (beyond >= 0) {
    const field = `ranges[${beyond}]`
    throw new ValetError('bad_request', `${field} ends at ${body.ranges[beyond]!.end}, beyond the object's ${claim.size} bytes`, { context: { field } })
  }
  await allowRead(ctx, claim.key)
  const now = options.now()
  const expiresAt = keyExpiry(options, claim.exp, now)
  const signRead = options.storage.signRead!.bind(options.storage)
  const ranges = await Promise.all(
    body.ranges.map(({ start, end }) => signRead({ key: claim.key, etag: claim.etag, start, end, expiresAt, signal: ctx.request.signal })),
  )
  const answer: SignRangesResponse = { ranges, serverTime: new Date(now).toISOString() }
  return json(answer)
}
