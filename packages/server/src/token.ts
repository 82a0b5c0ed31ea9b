import { ValetError, toBase64Url } from '@valet/protocol'
import { importHmacKey } from './hmac-key.js'

/**
 * What an upload token claims. The server keeps no session: every later call carries the token,
 * and keys are signed only for parts inside this claim.
 */
export interface UploadClaim {
  uploadId: string
  key: string
  /** The principal's id: a token is useless to anyone `authorize` does not resolve to it. */
  principal: string
  size: number
  partSize: number
  partCount: number
  type: string
  /** `Content-Disposition` stored with the object (`attachment` for script-capable types). */
  disposition?: string
  metadata: Record<string, string>
  /**
   * Base64 MD5 of the whole file: set for a single-PUT upload (one PUT of the object, bound to
   * this MD5), absent for multipart.
   */
  md5?: string
  /** Single-PUT: whether the key contains the upload's `uniqueId` (no other upload can use it). */
  unique?: boolean
  /** Expiry, epoch seconds. */
  exp: number
}

const VERSION = 'v1'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(bin, (c) => c.charCodeAt(0))
}

/**
 * Signs and verifies upload tokens: `v1.<claims>.<hmac>` with HMAC-SHA-256 over `v1.<claims>`.
 */
export class TokenSigner {
  readonly #key: Promise<CryptoKey>

  constructor(secret: Uint8Array) {
    this.#key = importHmacKey(secret, ['sign', 'verify'])
  }

  async sign(claim: UploadClaim): Promise<string> {
    const payload = `${VERSION}.${toBase64Url(encoder.encode(JSON.stringify(claim)))}`
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, encoder.encode(payload)))
    return `${payload}.${toBase64Url(mac)}`
  }

  /** Returns the claim of a genuine, unexpired token; throws `token_invalid` / `token_expired`. */
  async verify(token: string, now = Date.now()): Promise<UploadClaim> {
    const parts = token.split('.')
    const invalid = (why: string) => new ValetError('token_invalid', `upload token is invalid: ${why}`)
    if (parts.length !== 3 || parts[0] !== VERSION) throw invalid('malformed')
    let mac: Uint8Array<ArrayBuffer>
    let claim: unknown
    try {
      mac = fromBase64url(parts[2]!)
      // Constant-time comparison is Web Crypto's job: verify() never leaks where the MAC differs.
      const ok = await crypto.subtle.verify('HMAC', await this.#key, mac, encoder.encode(`${parts[0]}.${parts[1]}`))
      if (!ok) throw invalid('bad signature')
      claim = JSON.parse(decoder.decode(fromBase64url(parts[1]!)))
    } catch (error) {
      if (error instanceof ValetError) throw error
      throw invalid('malformed')
    }
    if (!isClaim(claim)) throw invalid('malformed claim')
    if (claim.exp * 1000 <= now) throw new ValetError('token_expired', 'upload token has expired; start the upload again')
    return claim
  }
}

function isClaim(c: unknown): c is UploadClaim {
  if (typeof c !== 'object' || c === null) return false
  const o = c as Record<string, unknown>
  return (
    typeof o.uploadId === 'string' &&
    typeof o.key === 'string' &&
    typeof o.principal === 'string' &&
    typeof o.type === 'string' &&
    typeof o.metadata === 'object' &&
    o.metadata !== null &&
    (o.disposition === undefined || typeof o.disposition === 'string') &&
    (o.md5 === undefined || typeof o.md5 === 'string') &&
    (o.unique === undefined || typeof o.unique === 'boolean') &&
    [o.size, o.partSize, o.partCount, o.exp].every((n) => typeof n === 'number' && Number.isSafeInteger(n))
  )
}
