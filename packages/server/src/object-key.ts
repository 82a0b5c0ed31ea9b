/** Default object keys: every key lives under its principal's prefix and no name can escape it. */

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
}

export interface Principal {
  /** Stable id of the caller; bound into the upload token. */
  id: string
  [extra: string]: unknown
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/**
 * Makes one safe key segment from untrusted text: no control characters, no separators, no
 * dot-only names (`.`/`..`), no characters that need escaping in URLs or shells.
 */
export function safeSegment(text: string, fallback = 'file'): string {
  const cleaned = text
    .normalize('NFC')
    .replace(CONTROL, '')
    .replace(/[/\\]+/g, '_')
    .replace(/[^\p{L}\p{N}._ ()+,=@-]/gu, '_')
    .replace(/^[.\s]+|[\s.]+$/g, '')
    .slice(0, 200)
  return cleaned === '' ? fallback : cleaned
}

/**
 * `${principal.id}/${uniqueId}/${safe(name)}`: unique per upload, so uploads never overwrite.
 * Without a `uniqueId` (a direct call), a random UUID stands in.
 */
export function defaultObjectKey({ principal, file, uniqueId }: Omit<ObjectKeyInput, 'uniqueId'> & { uniqueId?: string }): string {
  // Keep only the last path component: browsers send a base name, but Node callers may not.
  const base = file.name.split(/[/\\]/).pop() ?? ''
  return `${safeSegment(principal.id, 'anonymous')}/${uniqueId ?? crypto.randomUUID()}/${safeSegment(base)}`
}

/** Rejects keys that a custom `objectKey` produced but storage or other tenants would regret. */
export function checkObjectKey(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return 'must be a non-empty string'
  if (new TextEncoder().encode(key).length > 1024) return 'must be at most 1024 bytes'
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'must not contain control characters'
  if (key.startsWith('/')) return 'must not start with "/"'
  if (key.split('/').some((s) => s === '..' || s === '.')) return 'must not contain "." or ".." segments'
  return undefined
}
