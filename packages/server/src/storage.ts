import type { ProviderLimits, SignedPart, SignedRange, StoredPart } from '@valet/protocol'

/**
 * The port every storage provider implements. The core handler owns policy (who, what size,
 * which part, whether the upload is still open); a provider only talks to its storage and signs
 * what the core already allowed. Methods throw `ValetError('storage_error' | 'upload_not_found' |
 * 'object_exists', ...)` on storage failures.
 *
 * Two rules every provider keeps, because the server is stateless and storage is the source of
 * truth: an object, once committed, is never overwritten or changed (`complete` is write-once),
 * and {@link StorageProvider.uploadState} tells an upload that ended from one still open.
 */
export interface StorageProvider {
  /** Short name for logs and errors: `s3`, `azure`. */
  readonly name: string
  readonly limits: StorageLimits

  /**
   * Starts an upload (S3 CreateMultipartUpload; Azure: a staging blob). `uniqueId` is the
   * upload's unique key segment (a UUID, the same when an idempotent create is sent again):
   * providers that choose their own upload ids may use it.
   */
  create(input: CreateInput): Promise<{ uploadId: string }>

  /**
   * Signs a key for exactly one part: bound to the upload, the part number, its byte length and
   * its MD5, valid for requests that *start* before `expiresAt`.
   */
  signPart(input: SignPartInput): Promise<SignedPart>

  /** Parts storage holds for this upload, sorted by part number. Ended uploads: `upload_not_found`. */
  listParts(input: UploadRef): Promise<StoredPart[]>

  /**
   * Whether the upload can still take parts: `completed` once an object exists at its key (the
   * upload's own, or one that makes it impossible to commit, since commits are write-once),
   * `aborted` once it was aborted (or expired), `open` otherwise.
   */
  uploadState(input: UploadRef): Promise<UploadState>

  /**
   * The object at `key` if *this upload* committed it, with exactly the parts named (an earlier
   * complete whose answer was lost); `undefined` when there is no object at `key`. Throws
   * `object_exists` when another object is there.
   */
  findCommitted(input: CommitRef): Promise<StoredObject | undefined>

  /** The object at `key` as storage describes it, or `undefined` when there is none. */
  stat(input: StatInput): Promise<StoredObject | undefined>

  /**
   * Commits the parts in order, write-once: never over an existing object (`object_exists`),
   * conditionally where the store supports it. The core has already checked the parts against
   * `listParts`. Applies `type`, `disposition` and `metadata` where the provider sets them at
   * commit (Azure) and returns the stored object as storage reports it, for the core to verify.
   */
  complete(input: CompleteInput): Promise<StoredObject>

  /**
   * Aborts the upload and frees its parts; succeeds if the upload is already gone. Never
   * touches a committed object.
   */
  abort(input: UploadRef): Promise<void>

  /**
   * Unfinished uploads at exactly `key` (not keys it is a prefix of), in any order. Optional:
   * providers whose `create` leaves something in storage under a storage-chosen id (S3)
   * implement it so that a create carrying a `requestId` finds the upload an earlier,
   * unanswered attempt started instead of starting another that nobody could ever name.
   */
  findUploads?(input: FindUploadsInput): Promise<FoundUpload[]>

  /**
   * How many uploads of `owner` are open, counting at most `limit` (the caller only needs to
   * know whether the cap is reached). S3 counts multipart uploads under the key prefix
   * `${owner}/`; Azure counts the owner's staging blobs.
   */
  countOpenUploads(input: CountInput): Promise<number>

  /** Small JSON documents the server keeps beside the objects: completion receipts. */
  readonly records: RecordStore

  /**
   * Optional: single-PUT uploads (a file that fits one part, sent as one PUT of the object).
   * Providers without it carry every file as a multipart upload.
   */
  readonly singlePut?: SinglePutProvider

  /**
   * Optional: a read key for bytes `[start, end)` of the object at `key`, valid for requests
   * that *start* before `expiresAt`. Bound to that object (never another, never a write or a
   * listing) and, where the store can, to that range and that version (`etag`). Providers
   * without it cannot serve downloads: the download routes answer `not_found`.
   */
  signRead?(input: SignReadInput): Promise<SignedRange>

  /**
   * Optional: the parts the object at `key` was committed from, with their MD5s, as storage
   * itself records them (Azure: the MD5 every committed block id of a Valet upload carries), or
   * `undefined` when storage does not know them or the object no longer has `etag`. Downloads
   * use it when no part manifest exists for the object.
   */
  readParts?(input: ReadPartsInput): Promise<StoredPartMd5[] | undefined>
}

export interface ReadPartsInput {
  key: string
  etag: string
  signal?: AbortSignal
}

/** One part of a committed object: its size and base64 MD5. */
export interface StoredPartMd5 {
  partNumber: number
  size: number
  md5: string
}

export interface SignReadInput {
  key: string
  /** The object version the download was opened for, as `stat` reported it. */
  etag: string
  start: number
  /** Exclusive. */
  end: number
  /** Absolute expiry of the key. */
  expiresAt: Date
  signal?: AbortSignal
}

/**
 * What a provider needs for single-PUT uploads. The object is written by the client's PUT, so
 * the key itself must keep the rules complete keeps for multipart: only these bytes (size and
 * MD5), this type, disposition and metadata, at this key, and never over another object.
 */
export interface SinglePutProvider {
  /**
   * Signs one PUT of the whole object, as part 1. Write-once (`If-None-Match: *`, or the
   * store's equivalent) where the store honours it. Returns `undefined` when the key cannot be
   * made safe: a store that cannot refuse to overwrite, and a key that is not unique to this
   * upload (`unique` false) — the core then falls back to multipart.
   */
  sign(input: SignObjectInput): Promise<SignedPart | undefined>
  /**
   * Removes the object at `key` if it is still the one with `etag` (abort of a single-PUT
   * upload that was never completed); succeeds if there is none.
   */
  remove(input: { key: string; etag: string; signal?: AbortSignal }): Promise<void>
}

export interface SignObjectInput {
  key: string
  owner: string
  uploadId: string
  size: number
  /** Base64 MD5 of the whole object. */
  md5: string
  type: string
  disposition: string | undefined
  metadata: Record<string, string>
  /** Absolute expiry of the key. */
  expiresAt: Date
  /** Whether `key` contains the upload's `uniqueId` (so no other upload can ever use it). */
  unique: boolean
  signal?: AbortSignal
}

/** A provider's limits: the multipart plan's, plus what it accepts as metadata. */
export interface StorageLimits extends ProviderLimits {
  /** Most user metadata entries on one object, Valet's own included. */
  maxMetadataCount: number
  /** Longest metadata value, in bytes. */
  maxMetadataValueBytes: number
  /** Most bytes of user metadata on one object, names and values together. */
  maxMetadataBytes: number
}

export type UploadState = 'open' | 'completed' | 'aborted'

export interface UploadRef {
  uploadId: string
  key: string
  /**
   * `principalPrefix(principal.id)` of the upload's owner: Azure keeps staging blobs under it
   * so that open uploads can be counted per principal.
   */
  owner: string
  signal?: AbortSignal
}

export interface CommitRef extends UploadRef {
  /** The parts the client names, in part-number order, with the etags it saw. */
  parts: { partNumber: number; etag: string }[]
}

export interface CreateInput {
  key: string
  owner: string
  uniqueId: string
  type: string
  /** `Content-Disposition` to store, e.g. `attachment` for script-capable types. */
  disposition: string | undefined
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

export interface CompleteInput extends CommitRef {
  type: string
  disposition: string | undefined
  metadata: Record<string, string>
}

/** A committed object as storage describes it. */
export interface StoredObject {
  etag: string
  size: number
  location: string
  type: string | undefined
  disposition: string | undefined
  /** User metadata, keys lower-case. */
  metadata: Record<string, string>
  /**
   * Base64 MD5 of the whole object where storage recorded one: S3 for a single PUT (its ETag is
   * the hex MD5), Azure's `Content-MD5`. Single-PUT complete checks it against the token. A
   * provider that can tell the object is not what a single-PUT key's PUT makes reports `''`,
   * which matches no MD5 (Azure: a copied blob, another blob type; see stored-object.ts).
   */
  md5?: string
  /**
   * Storage encrypts with a key it does not share (S3 SSE-KMS, SSE-C): its ETags, the parts'
   * included, are then not MD5s, so Valet records no part MD5s for the object.
   */
  encrypted?: boolean
}

export interface StatInput {
  key: string
  signal?: AbortSignal
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

export interface CountInput {
  owner: string
  limit: number
  signal?: AbortSignal
}

/**
 * Named JSON documents under the provider's private prefix (`.valet/`), never reachable with a
 * key. `create` is the one conditional write: where storage supports create-if-absent it
 * decides a race between replicas; `conditional` says whether it does.
 */
export interface RecordStore {
  /** `true` when `create` is atomic in storage (S3 If-None-Match, Azure If-None-Match). */
  readonly conditional: boolean
  /** Writes `body` only if no record `name` exists; `false` when one does. */
  create(name: string, body: string, signal?: AbortSignal): Promise<boolean>
  read(name: string, signal?: AbortSignal): Promise<string | undefined>
  write(name: string, body: string, signal?: AbortSignal): Promise<void>
  remove(name: string, signal?: AbortSignal): Promise<void>
}
