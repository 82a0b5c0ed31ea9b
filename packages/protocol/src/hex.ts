/** Bytes ↔ lowercase hex: digests in object names, S3 ETags (MD5 hex), UUIDs. */
import { fromBase64 } from './base64.js'

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The bytes of an even-length hex string; `undefined` when it is not one. */
export function fromHex(hex: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) return undefined
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16))
}

/** Lowercase hex of a base64 value: a `Content-MD5` as S3 writes it in an ETag. */
export function base64ToHex(base64: string): string {
  return toHex(fromBase64(base64))
}
