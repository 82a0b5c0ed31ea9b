import { ValetError, parseOpenDownloadRequest, type OpenDownloadResponse } from '@valet/protocol'
import type { RouteContext } from './context.js'
import { json, readJson } from './http.js'
import type { Principal } from './object-key.js'
import { integrityOf, manifestParts, readManifest } from './part-manifest.js'
import { allowRead, readingOn } from './read-access.js'

/**
 * `POST /downloads` `{ key }`: checks `canRead`, reads the object's size, ETag and type from
 * storage and answers them with a download token bound to principal, key and ETag, plus what the
 * client can verify the bytes against (`integrity`). No read key yet: those come in batches from
 * `POST /downloads/ranges`.
 */
export async function openDownload<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  readingOn(ctx)
  const { key } = parseOpenDownloadRequest(await readJson(ctx.request))
  await allowRead(ctx, key)
  const { storage, now, tokenTtl } = ctx.options
  const signal = ctx.request.signal
  // Both at once: one round trip. The manifest only counts if it names this object's ETag.
  const [object, manifest] = await Promise.all([storage.stat({ key, signal }), readManifest(storage.records, key, signal)])
  if (object === undefined) throw new ValetError('object_not_found', `no object at ${key}`, { context: { key } })
  // No manifest for this version (an object from before manifests, or a lost record): storage
  // may still know the part MD5s itself (Azure block ids). Single-PUT objects have their MD5.
  let parts = manifestParts(manifest, object)
  if (!parts && !object.md5 && storage.readParts) parts = await storage.readParts({ key, etag: object.etag, signal })
  const exp = Math.floor(now() / 1000) + tokenTtl
  const token = await ctx.signer.signDownload({ kind: 'download', key, principal: ctx.principal.id, etag: object.etag, size: object.size, exp })
  const body: OpenDownloadResponse = {
    key,
    size: object.size,
    etag: object.etag,
    type: object.type ?? 'application/octet-stream',
    token,
    expiresAt: new Date(exp * 1000).toISOString(),
    integrity: integrityOf(parts, object),
  }
  return json(body)
}
