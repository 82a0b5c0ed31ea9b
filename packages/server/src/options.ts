import { DEFAULT_PART_SIZE, ValetError } from '@valet/protocol'
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
   * MIME types accepted; `image/*` style wildcards allowed.
   * @default every type
   */
  allowedTypes?: string[]
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

/** Compiles `allowedTypes` into one predicate; `image/*` matches any image subtype. */
export function typeMatcher(patterns: string[]): (type: string) => boolean {
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const p of patterns.map((s) => s.trim().toLowerCase())) {
    if (p === '*/*' || p === '*') return () => true
    if (p.endsWith('/*')) prefixes.push(p.slice(0, -1))
    else exact.add(p)
  }
  return (type) => {
    const t = type.toLowerCase().split(';')[0]!.trim()
    return exact.has(t) || prefixes.some((prefix) => t.startsWith(prefix))
  }
}

/** Validates and fills in every option once, naming the first bad one. Pure. */
export function normalizeOptions<P extends Principal>(options: ValetOptions<P>): NormalizedOptions<P> {
  if (typeof options !== 'object' || options === null) bad('options', 'must be an object')
  const { storage } = options
  if (!storage || typeof storage.create !== 'function' || typeof storage.signPart !== 'function') {
    bad('storage', 'must be a storage provider such as s3(...) or azure(...)')
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
    keyTtl,
    tokenTtl,
    partSize: positiveInt(options.partSize, 'partSize', DEFAULT_PART_SIZE),
    onComplete: options.onComplete,
    rateLimit: options.rateLimit,
    onError: options.onError ?? ((error) => console.error('[valet] unexpected error', error)),
  }
}
