/**
 * Pending creates: the resume state saved *before* `POST /uploads`. Storage may start the upload
 * and the process die before the answer is saved; the next run then sends the same `requestId`
 * and the server answers with that upload instead of starting another nobody could name.
 */
import { REQUEST_ID_PATTERN, toBase64Url } from '@valet/protocol'
import type { ResumeState } from '../ports.js'

/**
 * How long a pending create is worth sending again: the server's default `tokenTtl`. Later, the
 * upload it may have started is past resuming anyway (and a lifecycle rule's to clean up).
 */
export const PENDING_CREATE_TTL_MS = 24 * 60 * 60 * 1000

/** A pending create: a {@link ResumeState} whose only content is the request id and size. */
export type PendingCreate = ResumeState & { pending: true; requestId: string }

/** 16 random bytes, base64url (22 characters): what `requestId` is. */
export function newRequestId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)))
}

export function pendingCreate(requestId: string, size: number, now: number): PendingCreate {
  return {
    version: 1,
    pending: true,
    requestId,
    // Empty, so code written for created uploads (and older releases) never takes it for one.
    uploadId: '',
    key: '',
    token: '',
    partSize: 0,
    partCount: 0,
    size,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + PENDING_CREATE_TTL_MS).toISOString(),
  }
}

/** Whether `value` has the shape of a pending create (stores check shapes; the engine checks size and age). */
export function isPendingCreate(value: unknown): value is PendingCreate {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    v.version === 1 &&
    v.pending === true &&
    typeof v.requestId === 'string' &&
    REQUEST_ID_PATTERN.test(v.requestId) &&
    Number.isSafeInteger(v.size) &&
    (v.size as number) > 0 &&
    typeof v.createdAt === 'string' &&
    typeof v.expiresAt === 'string' &&
    v.expiresAt !== ''
  )
}
