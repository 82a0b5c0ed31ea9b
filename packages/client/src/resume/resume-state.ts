/**
 * Checks resume state read back from a store: a file anyone can edit, browser storage other code
 * on the origin can write. One check for every store: an empty id, key or token is not a state.
 */
import { isPendingCreate } from './pending-create.js'
import type { ResumeState } from '../ports.js'

const TEXT = ['uploadId', 'key', 'token', 'createdAt', 'expiresAt'] as const
const COUNTS = ['partSize', 'partCount', 'size'] as const

/** Whether `value` has the shape of a {@link ResumeState} (the engine then checks its meaning). */
export function isResumeState(value: unknown): value is ResumeState {
  // Saved before create: only its requestId and size mean anything.
  if (isPendingCreate(value)) return true
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  if (v.version !== 1 || v.pending !== undefined) return false
  return TEXT.every((k) => typeof v[k] === 'string' && v[k] !== '') && COUNTS.every((k) => Number.isSafeInteger(v[k]) && (v[k] as number) > 0)
}

/** State whose token has expired: no server would continue it, so stores drop it. */
export function isExpired(state: ResumeState, now: number): boolean {
  const at = Date.parse(state.expiresAt)
  return !(at > now)
}
