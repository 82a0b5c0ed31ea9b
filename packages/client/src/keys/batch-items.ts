/** Batch calls' items: per-item results as each route's own outcome, and their timing. */
import { MAX_BATCH, ValetError, type BatchResult, type CreateUploadResponse, type ErrorBody } from '@valet/protocol'
import type { SignTiming } from './key-timing.js'

/** A create's answer with the timing of its call: single-PUT keys come with it (skew correction). */
export interface CreateResult {
  created: CreateUploadResponse
  timing: SignTiming
}

/** One item of a batch call: its answer, or the error its own route would have thrown. */
export type BatchItemResult<T> = { ok: true; value: T } | { ok: false; error: ValetError; status: number }

export function tooMany(n: number): void {
  if (n < 1 || n > MAX_BATCH) throw new ValetError('internal_error', `a batch carries 1–${MAX_BATCH} items, got ${n}`)
}

export function timingOf(r: { sentAt: number; receivedAt: number }, serverTime: string | undefined): SignTiming {
  // No serverTime (a multipart create): the local clock stands in, skew 0, and nothing uses it.
  const at = serverTime === undefined ? Number.NaN : Date.parse(serverTime)
  return { sentAt: r.sentAt, receivedAt: r.receivedAt, serverTime: Number.isNaN(at) ? (r.sentAt + r.receivedAt) / 2 : at }
}

/** A batch item as its own route's outcome: the same `ValetError` (code, status) a single call would throw. */
export function itemResult<T, R>(item: BatchResult<T>, operation: string, map: (value: T) => R): BatchItemResult<R> {
  if (item.status < 300) return { ok: true, value: map(item.body as T) }
  const { code, message } = (item.body as ErrorBody).error
  return { ok: false, status: item.status, error: new ValetError(code, message, { context: { status: item.status, operation } }) }
}
