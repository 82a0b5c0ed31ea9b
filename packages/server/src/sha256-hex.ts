import { toHex } from '@valet/protocol'

/** SHA-256 of UTF-8 text as hex, through Web Crypto (Node, Bun, Deno, Workers alike). */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))))
}
