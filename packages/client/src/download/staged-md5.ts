/** MD5s the download engine computes itself: of staged bytes read back, and of its fingerprint. */
import { base64ToHex } from '@valet/protocol'
import type { Md5Stream } from './download-ports.js'

/** Base64 MD5 of bytes delivered in chunks. */
export async function md5Of(md5: () => Promise<Md5Stream>, chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = await md5()
  for await (const chunk of chunks) hash.update(chunk)
  return hash.digest()
}

/**
 * The resume key of a download: hex MD5 of the endpoint, the object key and the destination's
 * identity. The object's version is not in it on purpose: a replaced object must find the old
 * state, to remove it and its staging.
 */
export async function downloadFingerprint(md5: () => Promise<Md5Stream>, endpoint: string, key: string, destination: string): Promise<string> {
  const hash = await md5()
  hash.update(new TextEncoder().encode(JSON.stringify(['valet-download-1', endpoint, key, destination])))
  return base64ToHex(hash.digest())
}
