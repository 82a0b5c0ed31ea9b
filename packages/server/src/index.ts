/**
 * @module @valet/server — the valet key endpoint: authorizes callers, starts multipart uploads
 * and signs short-lived keys that let a client write exactly one part straight to storage, or
 * read ranges of one object (downloads, with `canRead`).
 */
export { createValet, type Valet } from './create-valet.js'
export type { ValetOptions, CompleteContext, CanReadInput } from './options.js'
export { defaultObjectKey, principalPrefix, safeSegment, type ObjectKeyInput, type Principal } from './object-key.js'
export { ACTIVE_CONTENT_TYPES, isActiveContent } from './content-types.js'
export { memoryRateLimit, type RateLimit, type RateLimitInput, type BucketRule, type Operation } from './rate-limit.js'
export type {
  StorageProvider,
  StorageLimits,
  UploadRef,
  UploadState,
  CommitRef,
  CreateInput,
  SignPartInput,
  SignReadInput,
  ReadPartsInput,
  StoredPartMd5,
  CompleteInput,
  StoredObject,
  StatInput,
  FindUploadsInput,
  FoundUpload,
  CountInput,
  RecordStore,
} from './storage.js'
export { ValetError, isValetError, errorStatus } from '@valet/protocol'
export type * from '@valet/protocol'
