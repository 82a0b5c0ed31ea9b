import type { Principal } from './object-key.js'

/** Which key-endpoint call is being made. */
/** `download`: opening a download; `read`: signing read keys for its ranges. */
export type Operation = 'create' | 'sign' | 'list' | 'complete' | 'abort' | 'download' | 'read'

export interface RateLimitInput<P extends Principal = Principal> {
  principal: P
  operation: Operation
  request: Request
}

/** Seconds the caller must wait (→ 429 with `Retry-After`), or nothing to let the call through. */
export type RateLimit<P extends Principal = Principal> = (
  input: RateLimitInput<P>,
) => number | undefined | void | Promise<number | undefined | void>

export interface BucketRule {
  /** Calls allowed at once after a quiet period. */
  burst: number
  /** Sustained calls per second. */
  perSecond: number
}

/**
 * An in-memory token bucket per principal and operation, for a single process. Several replicas
 * need a shared store (Redis...): write a {@link RateLimit} of your own with the same contract.
 *
 * @example
 * ```ts
 * createValet({ ..., rateLimit: memoryRateLimit({ create: { burst: 20, perSecond: 1 } }) })
 * ```
 */
export function memoryRateLimit(rules: Partial<Record<Operation, BucketRule>>, now: () => number = Date.now): RateLimit {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const MAX_TRACKED = 100_000
  return ({ principal, operation }) => {
    const rule = rules[operation]
    if (!rule) return undefined
    const id = `${operation}\u0000${principal.id}`
    const t = now()
    const bucket = buckets.get(id) ?? { tokens: rule.burst, at: t }
    bucket.tokens = Math.min(rule.burst, bucket.tokens + ((t - bucket.at) / 1000) * rule.perSecond)
    bucket.at = t
    // Re-insert so Map order is least recently used first, then forget the oldest when full.
    buckets.delete(id)
    buckets.set(id, bucket)
    if (buckets.size > MAX_TRACKED) buckets.delete(buckets.keys().next().value!)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return undefined
    }
    return (1 - bucket.tokens) / rule.perSecond
  }
}
