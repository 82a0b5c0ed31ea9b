/** Object URLs, path-style or virtual-hosted, with keys encoded the way SigV4 canonicalizes them. */
import { ValetError } from '@valet/protocol'
import type { ResolvedS3Options } from './s3-options.js'

const MAX_KEY_BYTES = 1024

// encodeURIComponent leaves !'()* alone; SigV4 (RFC 3986) wants them encoded. Encoding the
// URL exactly like the canonical request means no proxy or runtime re-encoding can make the
// path we sign differ from the path we send.
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * Encodes an object key for a URL path per S3 rules: every segment percent-encoded, `/` kept.
 * Throws `ValetError('bad_request')` for keys S3 or a URL cannot carry.
 */
export function encodeKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new ValetError('bad_request', 'object key must be a non-empty string')
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
    throw new ValetError('bad_request', `object key must be at most ${MAX_KEY_BYTES} bytes of UTF-8`, { context: { key } })
  }
  const segments = key.split('/')
  // WHATWG URLs resolve "." and ".." segments (even percent-encoded ones), so such a key
  // would silently address another object.
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new ValetError('bad_request', 'object key must not contain "." or ".." path segments', { context: { key } })
  }
  try {
    return segments.map(encodeSegment).join('/')
  } catch (cause) {
    // A lone surrogate has no UTF-8 form.
    throw new ValetError('bad_request', 'object key must be well-formed Unicode', { cause, context: { key } })
  }
}

/** URL of the bucket root, with a trailing slash. */
export function bucketUrl(options: ResolvedS3Options): string {
  const { protocol, host, basePath, bucket, forcePathStyle } = options
  return forcePathStyle
    ? `${protocol}//${host}${basePath}/${encodeSegment(bucket)}/`
    : `${protocol}//${bucket}.${host}${basePath}/`
}

/** URL of object `key` (no query). Also the `location` reported for a completed upload. */
export function objectUrl(options: ResolvedS3Options, key: string): URL {
  return new URL(bucketUrl(options) + encodeKey(key))
}
