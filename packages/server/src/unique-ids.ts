/**
 * The `uniqueId` of each new upload (the segment that keeps object keys apart): random, or, when
 * the create carries a `requestId`, an HMAC of it, so the same create sent again lands on the
 * same key and can find the upload its first attempt started.
 */
import { toHex } from '@valet/protocol'
import { importHmacKey } from './hmac-key.js'

export interface UniqueIdInput {
  /** `authorize(request).id`: in the HMAC, so no other principal can reach the same id. */
  principal: string
  requestId: string | undefined
  file: { name: string; size: number; type: string; metadata: Record<string, string> }
}

// A label no upload token payload (`v1.<base64url>`) can start with: the secret signs both,
// and neither MAC may ever stand in for the other.
const LABEL = 'valet-unique-id-1'

/** Derives ids with HMAC-SHA-256 keyed with the server's secret. */
export class UniqueIds {
  readonly #key: Promise<CryptoKey>

  constructor(secret: Uint8Array) {
    this.#key = importHmacKey(secret, ['sign'])
  }

  /**
   * A UUID: random without a `requestId`; with one, a UUIDv8 (RFC 9562 "custom") made of
   * HMAC(secret, principal, requestId, name, size, type, metadata). Metadata is in it because S3
   * stores metadata at create: a reused upload must carry what the new token claims.
   */
  async make({ principal, requestId, file }: UniqueIdInput): Promise<string> {
    if (requestId === undefined) return crypto.randomUUID()
    const metadata = Object.entries(file.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // A JSON array: unambiguous field boundaries whatever the strings contain.
    const message = JSON.stringify([LABEL, principal, requestId, file.name, file.size, file.type, metadata])
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, new TextEncoder().encode(message)))
    const bytes = mac.slice(0, 16)
    bytes[6] = (bytes[6]! & 0x0f) | 0x80
    bytes[8] = (bytes[8]! & 0x3f) | 0x80
    const hex = toHex(bytes)
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}
