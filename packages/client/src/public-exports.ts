/** Exports both entries share: errors, wire types, the engine's public types and ports. */
export { ValetError, isValetError } from '@valet/protocol'
// Listed, not `export type *`: the d.ts bundler turns that into `export *`, which would
// promise protocol *values* this entry doesn't export.
export type {
  ClientErrorCode,
  CompleteUploadRequest,
  CompleteUploadResponse,
  CompletedPart,
  CreateUploadRequest,
  CreateUploadResponse,
  ErrorBody,
  ErrorCode,
  ListPartsResponse,
  PartPlan,
  PartToSign,
  ProviderLimits,
  SignPartsRequest,
  SignPartsResponse,
  SignedPart,
  StoredPart,
  ValetErrorOptions,
  WireErrorCode,
} from '@valet/protocol'
export { createMemoryResumeStore } from './resume/memory-resume-store.js'
export type { Upload, UploadBatch, Uploader } from './create-uploader.js'
export type { ManyFile, ManyItem, ManyOutcome } from './engine/upload-many.js'
export type { ManyProgress } from './engine/many-progress.js'
export type { UploadManyOptions } from './many-options.js'
export type { UploadResult } from './engine/run-upload.js'
export type { UploadStatus } from './engine/upload-control.js'
export type { UploadPhase, UploadProgress } from './engine/progress-tracker.js'
export type { HeadersOption, UploadOptions, UploaderOptions } from './normalize-options.js'
// The other ports (transport, hasher, sources) are the platform entries' business: no option
// takes them, so they are not public.
export type { ResumeState, ResumeStore } from './ports.js'
export type { Download, DownloadArgs, DownloadResult, DownloadStatus, DownloadVerification, Downloader } from './download/create-downloader.js'
export type { DownloadOptions, DownloaderOptions } from './download/download-options.js'
export type { DownloadPhase, DownloadProgress } from './download/download-progress.js'
export type { DownloadState, DownloadStateStore } from './download/download-ports.js'
