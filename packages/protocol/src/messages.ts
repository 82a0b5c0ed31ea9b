/** Wire messages of the Valet protocol. Times are ISO 8601 strings; sizes are bytes. */
import type { ErrorBody } from './errors.js'

/** `POST /uploads` body. */
export interface CreateUploadRequest {
  name: string
  size: number
  /** MIME type; empty means `application/octet-stream`. */
  type: string
  lastModified?: number
  /** Stored on the object as user metadata (`x-amz-meta-*`, Azure metadata). */
  metadata?: Record<string, string>
  /** A part size the client prefers; the server clamps it to its policy and the provider's limits. */
  partSize?: number
  /**
   * Makes create idempotent per principal + requestId + file: the same create sent again (a
   * retry, or a new process after a crash that lost the answer) gets the same upload back
   * instead of a second one. A fresh random value per upload, {@link REQUEST_ID_PATTERN}.
   */
  requestId?: string
  /**
   * Base64 MD5 of the whole file. With it, a file that fits one part is sent as a **single-PUT
   * upload** where the provider can: the create answer carries the one key (`parts[0]`, bound to
   * the size and this MD5) and no storage call happens before the client's PUT.
   */
  md5?: string
}

/** How an upload is carried: one PUT of the whole object, or a multipart upload. */
export type UploadMode = 'single' | 'multipart'

/** `201` answer to `POST /uploads`. */
export interface CreateUploadResponse {
  uploadId: string
  key: string
  partSize: number
  partCount: number
  /** The upload token: an HMAC-signed claim the client sends back on every later call. */
  token: string
  /** When the token expires. */
  expiresAt: string
  /** `single` when the whole file goes in one PUT (`parts[0]`); absent means `multipart`. */
  mode?: UploadMode
  /** Keys signed with the create (single-PUT: the one key, as part 1). */
  parts?: SignedPart[]
  /** The server's clock when `parts` were signed (for skew correction); set with `parts`. */
  serverTime?: string
}

export interface PartToSign {
  partNumber: number
  size: number
  /** Base64 MD5 of the part's bytes (the value of `Content-MD5`). */
  md5: string
}

/** `POST /uploads/:id/parts` body (at most {@link MAX_SIGN_BATCH} parts). */
export interface SignPartsRequest {
  token: string
  parts: PartToSign[]
}

/** A valet key: everything needed to send one part straight to storage. */
export interface SignedPart {
  partNumber: number
  url: string
  method: 'PUT'
  /** Headers the request must carry exactly (`Content-MD5`, and provider-specific ones). */
  headers: Record<string, string>
  /** When storage stops accepting a request that *starts* with this key. */
  expiresAt: string
}

export interface SignPartsResponse {
  parts: SignedPart[]
  /** The server's clock, so clients can correct for skew. */
  serverTime: string
}

/** A part storage already holds. */
export interface StoredPart {
  partNumber: number
  size: number
  etag: string
}

/** `GET /uploads/:id/parts` answer (header `valet-token`). */
export interface ListPartsResponse {
  parts: StoredPart[]
}

export interface CompletedPart {
  partNumber: number
  etag: string
}

/** `POST /uploads/:id/complete` body. */
export interface CompleteUploadRequest {
  token: string
  parts: CompletedPart[]
}

/** `POST /uploads/:id/complete` answer. `result` is what the server's `onComplete` returned. */
export interface CompleteUploadResponse {
  key: string
  size: number
  etag: string
  location: string
  result?: unknown
}

/**
 * One item's outcome in a batch answer: the status and body the single-item route would have
 * answered (`201`/`200` and its message, or an error status and `{ error }`). One item failing
 * never fails the batch.
 */
export interface BatchResult<T> {
  status: number
  body: T | ErrorBody
}

/** `POST /uploads/batch` body: up to {@link MAX_BATCH} creates, each checked on its own. */
export interface CreateBatchRequest {
  uploads: CreateUploadRequest[]
}

/** `200` answer to `POST /uploads/batch`: one result per create, in order. */
export interface CreateBatchResponse {
  uploads: BatchResult<CreateUploadResponse>[]
  serverTime: string
}

/** One item of a batch complete: the upload's id and what `POST /uploads/:id/complete` takes. */
export interface CompleteBatchItem extends CompleteUploadRequest {
  uploadId: string
}

/** `POST /uploads/batch/complete` body: up to {@link MAX_BATCH} completes. */
export interface CompleteBatchRequest {
  uploads: CompleteBatchItem[]
}

/** `200` answer to `POST /uploads/batch/complete`: one result per complete, in order. */
export interface CompleteBatchResponse {
  uploads: BatchResult<CompleteUploadResponse>[]
}

/** Most creates or completes one batch call may carry. */
export const MAX_BATCH = 100

/** Header carrying the upload token on `GET` and `DELETE`. */
export const TOKEN_HEADER = 'valet-token'
/** Most parts one `POST .../parts` call may ask keys for. */
export const MAX_SIGN_BATCH = 100
/** Largest JSON body the key endpoint reads. */
export const MAX_BODY_BYTES = 1024 * 1024
/** Metadata limits, chosen to fit both S3 (2 KiB of user metadata) and Azure identifiers. */
export const MAX_METADATA_BYTES = 2048
export const MAX_NAME_LENGTH = 1024
/** Metadata keys Valet writes itself (e.g. the part size, for verified downloads): clients can't send them. */
export const RESERVED_META_PREFIX = 'valet_'
/** What a `requestId` may be: 16–128 characters of base64url (e.g. 16 random bytes, 22 characters). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/
