/**
 * The stall timer of one transfer attempt (a part PUT, a range GET): a dead connection is
 * retried, a slow one left alone. Activity only notes its time — it comes per network chunk, and a
 * timer set per chunk cost more than the check — and the timer, when it fires before the quiet
 * time is over, waits out the rest of it.
 */
import type { Clock } from '../ports.js'

export interface StallTimer {
  /** Something moved: the quiet time starts again. */
  touch(): void
  /** The attempt ended: `onStall` will not run. */
  stop(): void
}

/**
 * Calls `onStall` once nothing has touched the timer for `timeoutMs` (never when `timeoutMs` is 0).
 *
 * @example
 * ```ts
 * const stall = stallTimer(60_000, clock, () => attempt.abort(new ValetError('network_error', 'stalled')))
 * onChunk = (chunk) => { stall.touch(); ... }
 * try { await request } finally { stall.stop() }
 * ```
 */
export function stallTimer(timeoutMs: number, clock: Clock, onStall: () => void): StallTimer {
  if (timeoutMs <= 0) return { touch() {}, stop() {} }
  let last = clock.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = (wait: number): void => {
    timer = setTimeout(() => {
      const quiet = clock.now() - last
      if (quiet < timeoutMs) return arm(timeoutMs - quiet)
      onStall()
    }, wait)
  }
  arm(timeoutMs)
  return {
    touch: () => {
      last = clock.now()
    },
    stop: () => clearTimeout(timer),
  }
}
