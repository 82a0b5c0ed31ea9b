/**
 * Retry policy as pure functions: classify a failed attempt, then compute the delay. The loops
 * that apply them (part PUTs, key-endpoint calls) own the counters.
 */

/** `resign`: retry, but with a fresh key for the part (only part PUTs use keys). */
export type RetryVerdict = 'retry' | 'resign' | 'fail'

/** What went wrong with one attempt. */
export type AttemptFailure =
  /** No response: reset, refused, stalled, or (in browsers) a storage 4xx hidden by CORS. */
  | { kind: 'network' }
  | { kind: 'status'; status: number; body?: string; /** The key endpoint's error code, when it sent one. */ code?: string }
  /** Storage said 2xx but its ETag / Content-MD5 is not the MD5 we sent. */
  | { kind: 'checksum' }

function transientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

// The bytes were damaged on the way; sending them again works. S3 BadDigest, Azure Md5Mismatch,
// Azurite "InvalidOperation: Provided contentMD5 doesn't match."
const DAMAGED_BODY = /BadDigest|Md5Mismatch|InvalidDigest|MD5[^<]{0,40}match/i
// S3 "Request has expired", Azure "Signature not valid in the specified time frame".
const EXPIRED_KEY = /expired|time frame/i

/**
 * Classifies a failed part PUT. Every retry of a PUT re-signs the part first: a browser can't
 * tell an expired key (a CORS-less 403) from a network error, and keys are cheap.
 *
 * @param keyNearExpiry - the key had less than its refresh margin left when the failure was
 *   seen, so a 403 is most likely expiry (proxies that check the key after the body) rather
 *   than a key the storage will never accept.
 */
export function classifyPartFailure(failure: AttemptFailure, keyNearExpiry: boolean): RetryVerdict {
  if (failure.kind !== 'status') return 'resign'
  const { status, body = '' } = failure
  if (transientStatus(status)) return 'resign'
  if (status === 403 && (keyNearExpiry || EXPIRED_KEY.test(body))) return 'resign'
  if (status === 400 && DAMAGED_BODY.test(body)) return 'resign'
  return 'fail'
}

/**
 * Classifies a failed key-endpoint call. A 500 from `complete` is not retried: it is the app's
 * `onComplete` hook throwing, and running that hook again is not ours to decide.
 */
export function classifyEndpointFailure(failure: AttemptFailure, operation: string): RetryVerdict {
  if (failure.kind !== 'status') return 'retry'
  if (operation === 'complete' && failure.status === 500) return 'fail'
  // A cap on open uploads is not lifted by waiting a few seconds: say so at once.
  if (failure.code === 'too_many_uploads') return 'fail'
  return transientStatus(failure.status) ? 'retry' : 'fail'
}

export interface BackoffOptions {
  /** First ceiling, ms. */
  base: number
  /** Largest ceiling, ms. */
  cap: number
  /** `Math.random` unless a test pins it. */
  random?: () => number
}

/**
 * Exponential backoff with full jitter (uniform in [0, min(cap, base·2^(attempt−1))]): spreads
 * the retries of many parts that failed together instead of sending them in lockstep.
 *
 * @param attempt - 1 for the first retry.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random
  const ceiling = Math.min(options.cap, options.base * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/** A server may ask for a long pause, but not an absurd one. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000

/** Parses `Retry-After` (delta-seconds or an HTTP date) into ms from `now`; undefined if absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS)
  // An HTTP date has a weekday and month name; Date.parse alone accepts "-5" (year −5).
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(at)) return undefined
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS)
}

/**
 * The wait before retry number `attempt`: the server's `Retry-After` on 429/503 when given,
 * else backoff.
 */
export function retryDelay(
  attempt: number,
  failure: AttemptFailure,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
): number {
  if (failure.kind === 'status' && (failure.status === 429 || failure.status === 503) && retryAfterMs !== undefined) {
    return retryAfterMs
  }
  return backoffDelay(attempt, options)
}
