import { ValetError, fromBase64, toBase64Url } from '@valet/protocol'
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

/**
 * What a download token claims: one principal may read one object version. Read keys are signed
 * only for this key and ETag, inside `[0, size)`.
 */
export interface DownloadClaim {
  kind: 'download'
  key: string
  /** The principal's id: `canRead` ran for it, and every range call must come from it. */
  principal: string
  /** The object version the token was opened for: read keys carry it (`If-Match`). */
  etag: string
  size: number
  /** Expiry, epoch seconds. */
  exp: number
}

// Each kind of token has its own prefix, and the MAC covers it: a token of one kind is never
// accepted as the other, even though both are signed with the same secret.
const UPLOAD = 'v1'
const DOWNLOAD = 'd1'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  // Strictly the URL-safe alphabet without padding: one text per token.
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  return fromBase64(text)
}

/**
 * Signs and verifies tokens: `<kind>.<claims>.<hmac>` with HMAC-SHA-256 over `<kind>.<claims>`,
 * `v1` for upload tokens and `d1` for download tokens.
 */
export class TokenSigner {
  readonly #key: Promise<CryptoKey>

  constructor(secret: Uint8Array) {
    this.#key = importHmacKey(secret, ['sign', 'verify'])
  }

  async #sign(kind: string, claim: object): Promise<string> {
    const payload = `${kind}.${toBase64Url(encoder.encode(JSON.stringify(claim)))}`
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, encoder.encode(payload)))
    return `${payload}.${toBase64Url(mac)}`
  }

  /** The claims of a genuine token of `kind`, unchecked beyond the MAC. */
  async #open(kind: string, token: string, name: string): Promise<unknown> {
    const parts = token.split('.')
    const invalid = (why: string) => new ValetError('token_invalid', `${name} token is invalid: ${why}`)
    if (parts.length === 3 && (parts[0] === UPLOAD || parts[0] === DOWNLOAD) && parts[0] !== kind) {
      throw invalid(parts[0] === UPLOAD ? 'it is an upload token' : 'it is a download token')
    }
    if (parts.length !== 3 || parts[0] !== kind) throw invalid('malformed')
    try {
      const mac = fromBase64url(parts[2]!)
      // Constant-time comparison is Web Crypto's job: verify() never leaks where the MAC differs.
      const ok = await crypto.subtle.verify('HMAC', await this.#key, mac, encoder.encode(`${parts[0]}.${parts[1]}`))
      if (!ok) throw invalid('bad signature')
      return JSON.parse(decoder.decode(fromBase64url(parts[1]!)))
    } catch (error) {
      if (error instanceof ValetError) throw error
      throw invalid('malformed')
    }
  }

  sign(claim: UploadClaim): Promise<string> {
    return this.#sign(UPLOAD, claim)
  }

  /** Returns the claim of a genuine, unexpired token; throws `token_invalid` / `token_expired`. */
  async verify(token: string, now = Date.now()): Promise<UploadClaim> {
    const claim = await this.#open(UPLOAD, token, 'upload')
    if (!isClaim(claim)) throw new ValetError('token_invalid', 'upload token is invalid: malformed claim')
    if (claim.exp * 1000 <= now) throw new ValetError('token_expired', 'upload token has expired; start the upload again')
    return claim
  }

  signDownload(claim: DownloadClaim): Promise<string> {
    return this.#sign(DOWNLOAD, claim)
  }

  /** Returns the claim of a genuine, unexpired download token; throws `token_invalid` / `token_expired`. */
  async verifyDownload(token: string, now = Date.now()): Promise<DownloadClaim> {
    const claim = await this.#open(DOWNLOAD, token, 'download')
    if (!isDownloadClaim(claim)) throw new ValetError('token_invalid', 'download token is invalid: malformed claim')
    if (claim.exp * 1000 <= now) throw new ValetError('token_expired', 'download token has expired; open the download again')
    return claim
  }
}

function isDownloadClaim(c: unknown): c is DownloadClaim {
  if (typeof c !== 'object' || c === null) return false
  const o = c as Record<string, unknown>
  return (
    o.kind === 'download' &&
    typeof o.key === 'string' &&
    typeof o.principal === 'string' &&
    typeof o.etag === 'string' &&
    [o.size, o.exp].every((n) => typeof n === 'number' && Number.isSafeInteger(n))
  )
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
