/**
 * The secret as an HMAC-SHA-256 key, through Web Crypto so the server runs on Node, Bun, Deno
 * and Workers alike. Upload tokens and unique ids are both keyed with it; each keeps its own
 * label in what it signs, so neither MAC can stand in for the other.
 */
export function importHmacKey(secret: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  // A copy: importKey wants an ArrayBuffer-backed view, whatever view the caller holds.
  return crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, usages)
}
