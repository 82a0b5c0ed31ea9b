/** Default object keys: every key lives under its principal's own prefix and no name can escape it. */

export interface ObjectKeyInput<P extends Principal = Principal> {
  principal: P
  file: { name: string; size: number; type: string; metadata: Record<string, string> }
  /**
   * Unique per upload, stable when the same create is retried: a UUID, random, or derived from
   * the client's `requestId` with the server's secret and the principal's id (so no other
   * principal can ever get it). Put it in your keys rather than randomness of your own: a
   * create reuses the upload an unanswered earlier attempt started only when the key contains
   * this value.
   */
  uniqueId: string
  /**
   * `principalPrefix(principal.id)`: the principal's own key prefix. Keep your keys under
   * `${prefix}/` so that `maxOpenUploads` counts them (S3) and read rules like "own prefix"
   * stay one line.
   */
  prefix: string
}

export interface Principal {
  /** Stable id of the caller; bound into the upload token. */
  id: string
  [extra: string]: unknown
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
/** Longest name segment, in UTF-8 bytes: room for the prefix and id within S3's 1024-byte keys. */
const MAX_NAME_BYTES = 512
const MAX_NAME_CODE_POINTS = 200

const utf8 = new TextEncoder()
/** A surrogate without its pair: it has no UTF-8 form (S3 answers 400, Azure 500). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
/** Whether `text` has a UTF-8 form (no lone surrogates). */
export const wellFormed = (text: string): boolean => !new RegExp(LONE_SURROGATE.source).test(text)

/**
 * The key prefix of a principal: an injective encoding of its id, so distinct ids always get
 * distinct prefixes (`alice.`, `alice ` and `.alice` stay apart; so do `org/1` and `org_1`).
 * Letters, digits, `-` and `_` stand for themselves; every other UTF-8 byte becomes `~XX`
 * (upper-case hex), `~` included. The result is one URL- and shell-safe path segment that is
 * never `.` or `..`, and unchanged for the common ids (`user-42`, UUIDs).
 *
 * @example
 * ```ts
 * principalPrefix('alice@example.com') // 'alice~40example~2Ecom'
 * canRead: ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`)
 * ```
 */
export function principalPrefix(id: string): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('principalPrefix: the id must be a non-empty string')
  if (!wellFormed(id)) throw new TypeError('principalPrefix: the id must be well-formed Unicode (no lone surrogates)')
  let out = ''
  for (const byte of utf8.encode(id)) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Cuts `text` to whole code points, at most `maxCodePoints` of them and `maxBytes` of UTF-8. */
function cut(text: string, maxCodePoints: number, maxBytes: number): string {
  let out = ''
  let bytes = 0
  let count = 0
  for (const ch of text) {
    const size = utf8.encode(ch).length
    if (count === maxCodePoints || bytes + size > maxBytes) break
    out += ch
    bytes += size
    count++
  }
  return out
}

/**
 * Makes one safe key segment from untrusted text: no control characters, no separators, no
 * dot-only names (`.`/`..`), no characters that need escaping in URLs or shells, at most 200
 * code points and 512 bytes of UTF-8, never a split surrogate pair. Lossy by design: file names
 * are decoration, the upload's unique id keeps keys apart.
 */
export function safeSegment(text: string, fallback = 'file'): string {
  const cleaned = text
    .replace(LONE_SURROGATE, '\uFFFD')
    .normalize('NFC')
    .replace(CONTROL, '')
    .replace(/[/\\]+/g, '_')
    .replace(/[^\p{L}\p{N}._ ()+,=@-]/gu, '_')
    .replace(/^[.\s]+/, '')
  // Trailing dots and spaces go after the cut too: Azure refuses names ending in a dot.
  const trimmed = cut(cleaned, MAX_NAME_CODE_POINTS, MAX_NAME_BYTES).replace(/[\s.]+$/, '')
  return trimmed === '' ? fallback : trimmed
}

/**
 * `${principalPrefix(principal.id)}/${uniqueId}/${safe(name)}`: unique per upload, and every
 * principal's keys under a prefix no other principal shares. Without a `uniqueId` (a direct
 * call), a random UUID stands in.
 */
export function defaultObjectKey({ principal, file, uniqueId }: Pick<ObjectKeyInput, 'principal' | 'file'> & { uniqueId?: string }): string {
  // Keep only the last path component: browsers send a base name, but Node callers may not.
  const base = file.name.split(/[/\\]/).pop() ?? ''
  return `${principalPrefix(principal.id)}/${uniqueId ?? crypto.randomUUID()}/${safeSegment(base)}`
}

/** Rejects keys that a custom `objectKey` produced but storage or other tenants would regret. */
export function checkObjectKey(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return 'must be a non-empty string'
  if (!wellFormed(key)) return 'must be well-formed Unicode (no lone surrogates)'
  if (utf8.encode(key).length > 1024) return 'must be at most 1024 bytes'
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'must not contain control characters'
  // Azure reads `\` as `/` in blob names (measured on Azurite): check the key as it may land.
  const path = key.replace(/\\/g, '/')
  if (path.startsWith('/')) return 'must not start with "/" (or "\\")'
  if (path.startsWith('.valet/')) return 'must not be under ".valet/" (or ".valet\\"), the prefix Valet keeps its own records in'
  if (path.endsWith('.') || path.endsWith('/')) return 'must not end with "." or "/" (Azure refuses such names)'
  if (path.split('/').some((s) => s === '..' || s === '.')) return 'must not contain "." or ".." segments'
  return undefined
}
