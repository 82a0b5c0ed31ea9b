import SparkMD5 from 'spark-md5'
import { bareEtag, fromHex } from '@valet/protocol'

/**
 * The ETag S3 gives a multipart object: MD5 of the concatenated binary MD5s of its parts, then
 * `-<part count>`. Lets a retried complete recognise an object its lost first attempt created.
 * Returns `undefined` when a part ETag is not a plain MD5 (e.g. SSE-KMS), where it can't be known.
 */
export function multipartEtag(partEtags: string[]): string | undefined {
  const digests = new Uint8Array(partEtags.length * 16)
  for (const [i, etag] of partEtags.entries()) {
    const hex = bareEtag(etag)
    const digest = hex.length === 32 ? fromHex(hex) : undefined
    if (!digest) return undefined
    digests.set(digest, i * 16)
  }
  // spark-md5 is pure JS: Web Crypto has no MD5, and the server must run outside Node too.
  return `"${SparkMD5.ArrayBuffer.hash(digests.buffer)}-${partEtags.length}"`
}
