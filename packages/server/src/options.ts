import { DEFAULT_PART_SIZE, ValetError } from '@valet/protocol'
import { typeMatcher } from './content-types.js'
import { defaultObjectKey, type ObjectKeyInput, type Principal } from './object-key.js'
import type { StorageProvider } from './storage.js'
import type { RateLimit } from './rate-limit.js'

export interface CompleteContext<P extends Principal = Principal> {
  principal: P
  key: string
  size: number
  etag: string
  type: string
  metadata: Record<string, string>
  location: string
  /**
   * The upload's id: an idempotency key. Valet runs `onComplete` at most once per upload (see
   * docs/security.md for the guarantee per store); keying your write on it makes a rare second
   * run after a crash harmless.
   */
  uploadId: string
  request: Request
}

/** Options of {@link createValet}. */
export interface ValetOptions<P extends Principal = Principal> {
  /** Where the bytes go: `s3(...)` from `@valet/server/s3` or `azure(...)` from `@valet/server/azure`. */
  storage: StorageProvider
  /**
   * Signs upload tokens; at least 32 bytes (a string counts its UTF-8 bytes). Every replica
   * behind a load balancer needs the same secret, nothing else.
   */
  secret: string | Uint8Array
  /**
   * Who is asking. Return the principal, or `null` for 401. Throw a `ValetError('forbidden')`
   * for 403. Called on every request, so a token only works for the principal it was issued to.
   */
  authorize: (request: Request) => P | null | undefined | Promise<P | null | undefined>
  /**
   * The object key of a new upload. Keys must be unique per upload unless you want overwrites:
   * build them from `uniqueId`, which also keeps a retried create on the same key (a create
   * finds the upload its unanswered first attempt started only if the key contains `uniqueId`).
   * @default `${principal.id}/${uniqueId}/${safe(name)}`
   */
  objectKey?: (input: ObjectKeyInput<P>) => string | Promise<string>
  /**
   * Largest file accepted, in bytes.
   * @default the provider's maximum object size
   */
  maxFileSize?: number
  /**
   * MIME types accepted; `image/*` style wildcards allowed. A wildcard never admits a
   * script-capable type (`text/html`, `image/svg+xml`, XML, JavaScript): list those exactly.
   * @default every type
   */
  allowedTypes?: string[]
  /**
   * How script-capable types (HTML, SVG, XML, JavaScript) are stored: `'attachment'` adds
   * `Content-Disposition: attachment`, so a browser opening the object from the bucket downloads
   * it instead of running it on the bucket's origin. `'inline'` stores them like any other type.
   * @default 'attachment'
   */
  activeContent?: 'attachment' | 'inline'
  /**
   * Origins whose pages may call the key endpoint from a browser (CORS), exactly as the browser
   * sends them: `'https://app.example'`. Preflights from other origins get 403, and no CORS
   * header is ever set for them. Same-origin pages need nothing here.
   * @default [] (same-origin only)
   */
  allowedOrigins?: string[]
  /**
   * Uploads one principal may have open at once, counted in storage at each create (S3: the
   * multipart uploads under the principal's prefix; Azure: its staging blobs). A create beyond
   * it answers 429 `too_many_uploads`. `Infinity` turns the cap off.
   * @default 32
   */
  maxOpenUploads?: number
  /**
   * Lifetime of each valet key, in seconds. A key only has to be valid when its PUT starts.
   * @default 900
   */
  keyTtl?: number
  /**
   * Lifetime of an upload token, in seconds: how long an upload can be resumed.
   * @default 86400
   */
  tokenTtl?: number
  /**
   * Part size, in bytes; raised to the provider's minimum and to fit its part count limit.
   * A client may ask for another size, which is clamped the same way.
   * @default 8 MiB
   */
  partSize?: number
  /**
   * Runs after storage confirmed the object. Its JSON-able result reaches the client as `result`.
   * A throw fails the complete call (the object stays in storage).
   */
  onComplete?: (context: CompleteContext<P>) => unknown | Promise<unknown>
  /**
   * Throttles callers after `authorize`, before any storage call: return seconds to wait to
   * refuse with 429 and `Retry-After`. `memoryRateLimit(...)` is a ready one for one process.
   * @default no limit
   */
  rateLimit?: RateLimit<P>
  /**
   * Called with unexpected (non-`ValetError`) errors before a 500 is returned.
   * @default logs with `console.error`
   */
  onError?: (error: unknown, request: Request) => void
}

export interface NormalizedOptions<P extends Principal = Principal> {
  storage: StorageProvider
  secret: Uint8Array
  authorize: ValetOptions<P>['authorize']
  objectKey: (input: ObjectKeyInput<P>) => string | Promise<string>
  maxFileSize: number
  allowedTypes: ((type: string) => boolean) | undefined
  activeContent: 'attachment' | 'inline'
  allowedOrigins: ReadonlySet<string>
  maxOpenUploads: number
  keyTtl: number
  tokenTtl: number
  partSize: number
  onComplete: ValetOptions<P>['onComplete']
  rateLimit: RateLimit<P> | undefined
  onError: (error: unknown, request: Request) => void
}

function bad(option: string, problem: string): never {
  throw new ValetError('invalid_option', `createValet: option \`${option}\` ${problem}`, { context: { option } })
}

function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) bad(option, `must be a positive integer, got ${String(value)}`)
  return value
}

const DEFAULT_MAX_OPEN_UPLOADS = 32

/** `allowedOrigins` as a set of exact origins; a path, a wildcard or a trailing slash is a mistake worth naming. */
function originSet(origins: unknown): ReadonlySet<string> {
  if (origins === undefined) return new Set()
  if (!Array.isArray(origins)) bad('allowedOrigins', 'must be an array of origins such as "https://app.example"')
  for (const origin of origins) {
    let parsed: URL | undefined
    try {
      parsed = typeof origin === 'string' ? new URL(origin) : undefined
    } catch {
      parsed = undefined
    }
    if (!parsed || parsed.origin !== origin || parsed.origin === 'null' || parsed.hostname.includes('*')) {
      bad('allowedOrigins', `must list origins exactly as browsers send them (scheme://host[:port], no path or wildcard), got ${JSON.stringify(origin)}`)
    }
  }
  return new Set(origins as string[])
}

/** Validates and fills in every option once, naming the first bad one. Pure. */
export function normalizeOptions<P extends Principal>(options: ValetOptions<P>): NormalizedOptions<P> {
  if (typeof options !== 'object' || options === null) bad('options', 'must be an object')
  const { storage } = options
  const methods = ['create', 'signPart', 'listParts', 'uploadState', 'findCommitted', 'stat', 'complete', 'abort', 'countOpenUploads'] as const
  if (!storage || methods.some((m) => typeof storage[m] !== 'function') || typeof storage.records !== 'object') {
    bad('storage', `must be a storage provider such as s3(...) or azure(...) (with ${methods.join(', ')} and records)`)
  }
  const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
  if (!(secret instanceof Uint8Array)) bad('secret', 'must be a string or Uint8Array')
  if (secret.length < 32) bad('secret', `must be at least 32 bytes, got ${secret.length}`)
  if (typeof options.authorize !== 'function') bad('authorize', 'must be a function returning the principal or null')
  if (options.objectKey !== undefined && typeof options.objectKey !== 'function') bad('objectKey', 'must be a function')
  if (options.onComplete !== undefined && typeof options.onComplete !== 'function') bad('onComplete', 'must be a function')
  if (options.onError !== undefined && typeof options.onError !== 'function') bad('onError', 'must be a function')
  if (options.rateLimit !== undefined && typeof options.rateLimit !== 'function') bad('rateLimit', 'must be a function such as memoryRateLimit(...)')
  const { allowedTypes } = options
  if (allowedTypes !== undefined && (!Array.isArray(allowedTypes) || allowedTypes.some((t) => typeof t !== 'string' || !t.includes('/')))) {
    bad('allowedTypes', 'must be an array of MIME types such as "image/*" or "application/pdf"')
  }
  const { activeContent = 'attachment' } = options
  if (activeContent !== 'attachment' && activeContent !== 'inline') bad('activeContent', `must be 'attachment' or 'inline', got ${String(activeContent)}`)
  const maxOpenUploads = options.maxOpenUploads === Infinity ? Infinity : positiveInt(options.maxOpenUploads, 'maxOpenUploads', DEFAULT_MAX_OPEN_UPLOADS)
  const maxFileSize = positiveInt(options.maxFileSize, 'maxFileSize', storage.limits.maxObjectSize)
  if (maxFileSize > storage.limits.maxObjectSize) bad('maxFileSize', `exceeds the ${storage.name} maximum of ${storage.limits.maxObjectSize} bytes`)
  const keyTtl = positiveInt(options.keyTtl, 'keyTtl', 900)
  if (keyTtl > 7 * 24 * 3600) bad('keyTtl', 'must be at most 604800 seconds (7 days, the SigV4 limit)')
  const tokenTtl = positiveInt(options.tokenTtl, 'tokenTtl', 86_400)
  if (tokenTtl < keyTtl) bad('tokenTtl', `must be at least keyTtl (${keyTtl} s)`)
  return {
    storage,
    secret: secret.slice(),
    authorize: options.authorize,
    objectKey: options.objectKey ?? defaultObjectKey,
    maxFileSize,
    allowedTypes: allowedTypes ? typeMatcher(allowedTypes) : undefined,
    activeContent,
    allowedOrigins: originSet(options.allowedOrigins),
    maxOpenUploads,
    keyTtl,
    tokenTtl,
    partSize: positiveInt(options.partSize, 'partSize', DEFAULT_PART_SIZE),
    onComplete: options.onComplete,
    rateLimit: options.rateLimit,
    onError: options.onError ?? ((error) => console.error('[valet] unexpected error', error)),
  }
}
