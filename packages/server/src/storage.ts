import type { ProviderLimits, SignedPart, StoredPart } from '@valet/protocol'

/**
 * The port every storage provider implements. The core handler owns policy (who, what size,
 * which part); a provider only talks to its storage and signs what the core already allowed.
 * All methods throw `ValetError('storage_error' | 'upload_not_found', ...)` on storage failures.
 */
export interface StorageProvider {
  /** Short name for logs and errors: `s3`, `azure`. */
  readonly name: string
  readonly limits: ProviderLimits

  /** Starts a multipart upload (S3 CreateMultipartUpload; Azure: a fresh id, nothing on storage). */
  create(input: CreateInput): Promise<{ uploadId: string }>

  /**
   * Signs a key for exactly one part: bound to the upload, the part number, its byte length and
   * its MD5, valid for requests that *start* before `expiresAt`.
   */
  signPart(input: SignPartInput): Promise<SignedPart>

  /** Parts storage holds for this upload, sorted by part number. */
  listParts(input: UploadRef): Promise<StoredPart[]>

  /**
   * Commits the parts in order. The core has already checked them against `listParts`.
   * `type` and `metadata` are applied here for providers that set them at commit (Azure).
   */
  complete(input: CompleteInput): Promise<{ etag: string; size: number; location: string }>

  /** Aborts the upload and frees its parts; succeeds if the upload is already gone. */
  abort(input: UploadRef): Promise<void>

  /**
   * The committed object at `key`, or `undefined` if there is none. Optional: providers whose
   * `listParts` stops working after a commit (S3) implement it so a retried complete whose
   * first answer was lost can still succeed.
   */
  stat?(input: UploadRef): Promise<{ etag: string; size: number; location: string } | undefined>

  /**
   * Unfinished uploads at exactly `key` (not keys it is a prefix of), in any order. Optional:
   * providers whose `create` leaves something in storage (S3) implement it so that a create
   * carrying a `requestId` finds the upload an earlier, unanswered attempt started instead of
   * starting another that nobody could ever name.
   */
  findUploads?(input: FindUploadsInput): Promise<FoundUpload[]>
}

export interface FindUploadsInput {
  key: string
  signal?: AbortSignal
}

export interface FoundUpload {
  uploadId: string
  /** When storage started the upload (S3 `Initiated`; whole seconds on some stores). */
  initiated: Date
}

export interface UploadRef {
  uploadId: string
  key: string
  signal?: AbortSignal
}

export interface CreateInput {
  key: string
  type: string
  metadata: Record<string, string>
  signal?: AbortSignal
}

export interface SignPartInput extends UploadRef {
  partNumber: number
  size: number
  /** Base64 MD5 of the part: becomes a signed `Content-MD5` header. */
  md5: string
  /** Absolute expiry of the key. */
  expiresAt: Date
}

export interface CompleteInput extends UploadRef {
  parts: { partNumber: number; etag: string }[]
  type: string
  metadata: Record<string, string>
}
