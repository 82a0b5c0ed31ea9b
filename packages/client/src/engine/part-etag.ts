/**
 * What storage says about a part it stored, checked against the MD5 we sent. The one place that
 * knows provider answers: S3 puts the part's hex MD5 in `ETag`; Azure's Put Block has no ETag
 * but echoes `Content-MD5`.
 */
import { ValetError, bareEtag, base64ToHex } from '@valet/protocol'

const HEX_MD5 = /^[0-9a-f]{32}$/i

/**
 * The value to send as this part's `etag` on complete, verified against `md5` (base64).
 *
 * - `ETag` present: returned as storage sent it. When it looks like a hex MD5 (S3 and
 *   compatibles) it must equal ours, else `checksum_mismatch` (the caller re-uploads the part).
 * - No `ETag` but `Content-MD5` (Azure Put Block): it must equal ours and becomes the etag.
 * - Neither, on an Azure answer (`x-ms-*` headers): our MD5. Azurite doesn't echo Content-MD5,
 *   but Azure and Azurite both refuse a body that doesn't match the Content-MD5 we sent (400
 *   Md5Mismatch), so a 2xx is proof enough; `@valet/server`'s Azure provider expects exactly this.
 * - Otherwise: `storage_rejected`. In browsers this is nearly always a CORS rule that doesn't
 *   expose the header.
 *
 * @param headers - response headers, lower-case names.
 */
export function partEtagFromResponse(headers: Record<string, string>, md5: string): string {
  const etag = headers['etag']
  if (etag !== undefined && etag !== '') {
    const bare = bareEtag(etag)
    if (HEX_MD5.test(bare) && bare.toLowerCase() !== base64ToHex(md5)) {
      throw new ValetError('checksum_mismatch', `storage stored the part with MD5 ${bare}, expected ${base64ToHex(md5)}`, {
        context: { etag, md5 },
      })
    }
    return etag
  }
  const contentMd5 = headers['content-md5']
  if (contentMd5 !== undefined && contentMd5 !== '') {
    if (contentMd5.trim() !== md5) {
      throw new ValetError('checksum_mismatch', `storage stored the part with Content-MD5 ${contentMd5}, expected ${md5}`, {
        context: { contentMd5, md5 },
      })
    }
    return contentMd5.trim()
  }
  if (Object.keys(headers).some((h) => h.startsWith('x-ms-'))) return md5
  throw new ValetError(
    'storage_rejected',
    'storage answered the part PUT without an ETag (or Content-MD5) header; expose ETag and Content-MD5 in the storage CORS configuration',
    { context: { reason: 'missing_etag' } },
  )
}

/**
 * Whether a part storage already holds (listed on resume) has our bytes: its etag is our MD5,
 * as S3 hex or as base64. Anything else can't be verified, so the part is sent again.
 */
export function storedPartMatches(etag: string, md5: string): boolean {
  const bare = bareEtag(etag)
  if (HEX_MD5.test(bare)) return bare.toLowerCase() === base64ToHex(md5)
  return bare === md5
}
