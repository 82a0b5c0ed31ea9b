import { OptionReader } from '@valet/protocol'
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

/** What `canRead` is asked: may this principal read the object at `key`? */
export interface CanReadInput<P extends Principal = Principal> {
  principal: P
  /** The object key the client asked for (never one under `.valet/`: those are always refused). */
  key: string
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
   * A client may ask for another size, which is clamped the same way. Unset, the part size grows
   * with the file (`autoPartSize`): 8 MiB up to 128 MiB, doubling to 64 MiB from 1 GiB, larger
   * only where the part count limit needs it. Fewer parts are faster on stores with a per-part
   * cost; a client that must buffer parts (streams, browser Blobs) holds up to
   * `concurrency × part size`, so set it lower where memory is tight.
   * @default grows with the file, 8 to 64 MiB
   */
  partSize?: number
  /**
   * Runs after storage confirmed the object. Its JSON-able result reaches the client as `result`.
   * A throw fails the complete call (the object stays in storage).
   */
  onComplete?: (context: CompleteContext<P>) => unknown | Promise<unknown>
  /**
   * Turns downloads on: whether `principal` may read the object at `key`. Asked when a download
   * is opened and again on every range call, so revoking access takes effect at once (keys
   * already handed out live until they expire, `keyTtl`). Without it, download routes answer 404.
   * With the default object keys, "a principal reads only its own uploads" is one line.
   * @example
   * ```ts
   * import { principalPrefix } from '@valet/server'
   * canRead: ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`)
   * ```
   * @default reading is off
   */
  canRead?: (input: CanReadInput<P>) => boolean | Promise<boolean>
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
  /** `keyTtl` in ms: in-process tests (src/testing) set keys shorter than a second. */
  keyTtlMs: number
  tokenTtl: number
  /** `undefined`: sized to each file (`autoPartSize`). */
  partSize: number | undefined
  onComplete: ValetOptions<P>['onComplete']
  canRead: ValetOptions<P>['canRead']
  rateLimit: RateLimit<P> | undefined
  onError: (error: unknown, request: Request) => void
  /** The server's clock, ms since the epoch: `Date.now` but in in-process tests (src/testing). */
  now: () => number
}

const DEFAULT_MAX_OPEN_UPLOADS = 32
const STORAGE_METHODS = ['create', 'signPart', 'listParts', 'uploadState', 'findCommitted', 'stat', 'complete', 'abort', 'countOpenUploads'] as const

function isStorageProvider(value: unknown): value is StorageProvider {
  if (typeof value !== 'object' || value === null) return false
  const provider = value as Partial<Record<string, unknown>>
  return STORAGE_METHODS.every((m) => typeof provider[m] === 'function') && typeof provider.records === 'object'
}

/** An origin exactly as browsers send it; a path, a wildcard or a trailing slash is a mistake worth naming. */
function isOrigin(origin: string): boolean {
  try {
    const { origin: parsed, hostname } = new URL(origin)
    return parsed === origin && parsed !== 'null' && !hostname.includes('*')
  } catch {
    return false
  }
}

/** Validates and fills in every option once, naming the first bad one. Pure. */
export function normalizeOptions<P extends Principal>(options: ValetOptions<P>): NormalizedOptions<P> {
  // Typed, so the checker knows `read.fail()` never returns.
  const read: OptionReader = new OptionReader('createValet', options)
  const storage = read.raw('storage')
  if (!isStorageProvider(storage)) {
    read.fail('storage', `must be a storage provider such as s3(...) or azure(...) (with ${STORAGE_METHODS.join(', ')} and records)`)
  }
  const rawSecret = read.raw('secret')
  const secret = typeof rawSecret === 'string' ? new TextEncoder().encode(rawSecret) : rawSecret
  if (!(secret instanceof Uint8Array)) read.fail('secret', 'must be a string or Uint8Array')
  if (secret.length < 32) read.fail('secret', `must be at least 32 bytes, got ${secret.length}`)
  const authorize = read.func<ValetOptions<P>['authorize']>('authorize', { required: true, hint: 'returning the principal or null' })
  const allowedTypes = read.raw('allowedTypes') === undefined ? undefined : read.strings('allowedTypes', (type, i) => {
    if (!type.includes('/')) read.fail(`allowedTypes[${i}]`, `must be a MIME type such as "image/*" or "application/pdf", got ${JSON.stringify(type)}`)
    return type
  })
  const allowedOrigins = read.strings('allowedOrigins', (origin, i) => {
    if (!isOrigin(origin)) {
      read.fail(`allowedOrigins[${i}]`, `must be an origin exactly as browsers send it (scheme://host[:port], no path or wildcard), got ${JSON.stringify(origin)}`)
    }
    return origin
  })
  const { maxObjectSize } = storage.limits
  const keyTtl = read.integer('keyTtl', { min: 1, max: 7 * 24 * 3600, hint: 'seconds; 7 days is the SigV4 limit', fallback: 900 })
  // Checked even when it is the default: a keyTtl over a day needs a longer tokenTtl too.
  const tokenTtl = read.integer('tokenTtl', { min: 1, fallback: 86_400 })
  if (tokenTtl < keyTtl) read.fail('tokenTtl', `must be at least keyTtl (${keyTtl} s), got ${tokenTtl}`)
  return {
    storage,
    secret: secret.slice(),
    authorize,
    objectKey: read.func<(input: ObjectKeyInput<P>) => string | Promise<string>>('objectKey') ?? defaultObjectKey,
    maxFileSize: read.integer('maxFileSize', { min: 1, max: maxObjectSize, hint: `bytes; the ${storage.name} maximum`, fallback: maxObjectSize }),
    allowedTypes: allowedTypes ? typeMatcher(allowedTypes) : undefined,
    activeContent: read.oneOf('activeContent', ['attachment', 'inline'], 'attachment'),
    allowedOrigins: new Set(allowedOrigins),
    maxOpenUploads: read.integer('maxOpenUploads', { min: 1, max: Infinity, fallback: DEFAULT_MAX_OPEN_UPLOADS }),
    keyTtlMs: keyTtl * 1000,
    tokenTtl,
    partSize: read.integer('partSize', { min: 1 }),
    onComplete: read.func<NonNullable<ValetOptions<P>['onComplete']>>('onComplete'),
    canRead: read.func<NonNullable<ValetOptions<P>['canRead']>>('canRead', { hint: 'returning whether the principal may read the key' }),
    rateLimit: read.func<RateLimit<P>>('rateLimit', { hint: 'such as memoryRateLimit(...)' }),
    onError: read.func<(error: unknown, request: Request) => void>('onError') ?? ((error) => console.error('[valet] unexpected error', error)),
    now: Date.now,
  }
}
