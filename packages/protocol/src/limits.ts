import { ValetError } from './errors.js'

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const TiB = 1024 * GiB

/** What a storage service accepts for one multipart upload. */
export interface ProviderLimits {
  /** Smallest part allowed, except the last one. */
  minPartSize: number
  maxPartSize: number
  maxParts: number
  maxObjectSize: number
  /**
   * The smallest part Valet plans on this provider (the last part aside).
   * @default MIN_PLANNED_PART_SIZE (5 MiB)
   */
  minPlannedPartSize?: number
}

/**
 * AWS S3 (and the S3-compatibles that copy its rules: Swift s3api, MinIO, R2). "Amazon S3
 * multipart upload limits" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html)
 * now gives a maximum object size of 48.8 TiB (it was 5 TiB) with parts still 5 MiB to 5 GiB and
 * at most 10,000 of them: exactly 10,000 × 5 GiB, so the largest object needs the largest parts.
 * Stores that kept the old 5 TiB refuse beyond it themselves (at create or complete).
 */
export const s3Limits: ProviderLimits = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  maxObjectSize: 10_000 * 5 * GiB,
}

/** Azure Blob block blobs (service version 2019-12-12 and later). */
export const azureLimits: ProviderLimits = {
  minPartSize: 1,
  maxPartSize: 4000 * MiB,
  maxParts: 50_000,
  maxObjectSize: 50_000 * 4000 * MiB,
}

/** The smallest part the default plan picks (see {@link autoPartSize}); files up to 128 MiB get it. */
export const DEFAULT_PART_SIZE = 8 * MiB
/**
 * The largest part the default plan picks unless the part count limit forces larger: sources
 * that can't be read twice (streams, and Blobs in browsers) hold `concurrency × part size` in
 * memory, 256 MiB at the default 4 PUTs. File paths in Node stream their parts and don't.
 */
export const MAX_AUTO_PART_SIZE = 64 * MiB
/** The default plan doubles parts from {@link DEFAULT_PART_SIZE} until a file needs no more than this many. */
const AUTO_PART_COUNT = 16
/** The smallest part Valet plans unless a provider's limits say otherwise: fewer, larger requests win. */
export const MIN_PLANNED_PART_SIZE = 5 * MiB

export interface PartPlan {
  size: number
  partSize: number
  partCount: number
}

/**
 * The part size planned when neither the server's `partSize` option nor the client asks for one:
 * {@link DEFAULT_PART_SIZE}, doubled until the file fits in 16 parts, at most
 * {@link MAX_AUTO_PART_SIZE}. Each part costs a request, a signature and, on stores such as
 * Swift, ~75 ms of server CPU, so big files go faster in fewer, bigger parts; 16 still keeps
 * 4 PUTs busy and a retry small. ≤ 128 MiB: 8 MiB; 256 MiB: 16; 512 MiB: 32; ≥ 1 GiB: 64 MiB
 * (10,000 parts reach 625 GiB; {@link planParts} grows parts beyond that).
 */
export function autoPartSize(size: number): number {
  let partSize = DEFAULT_PART_SIZE
  while (partSize < MAX_AUTO_PART_SIZE && size > partSize * AUTO_PART_COUNT) partSize *= 2
  return partSize
}

/**
 * Plans the parts of an upload: part size = max(requested (absent: {@link autoPartSize}), planned
 * minimum (5 MiB unless the limits set `minPlannedPartSize`), provider minimum, ceil(size /
 * maxParts)), at most the provider's maximum, fixed for the whole upload. Throws a typed error,
 * never an invalid plan.
 */
export function planParts(size: number, partSize?: number, limits: ProviderLimits = s3Limits): PartPlan {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new ValetError('bad_request', `size must be a positive integer, got ${String(size)}`)
  }
  if (size > limits.maxObjectSize) {
    throw new ValetError('file_too_large', `size ${size} exceeds the storage maximum of ${limits.maxObjectSize} bytes`)
  }
  if (partSize !== undefined && (!Number.isSafeInteger(partSize) || partSize <= 0)) {
    throw new ValetError('bad_request', `partSize must be a positive integer, got ${String(partSize)}`)
  }
  const chosen = Math.max(partSize ?? autoPartSize(size), limits.minPlannedPartSize ?? MIN_PLANNED_PART_SIZE, limits.minPartSize, Math.ceil(size / limits.maxParts))
  const planned = Math.min(chosen, limits.maxPartSize)
  const partCount = Math.ceil(size / planned)
  if (partCount > limits.maxParts) {
    throw new ValetError('file_too_large', `size ${size} needs more than ${limits.maxParts} parts`)
  }
  return { size, partSize: planned, partCount }
}

/** Byte length of part `partNumber` (1-based) in a plan. */
export function partSizeOf(plan: PartPlan, partNumber: number): number {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new ValetError('invalid_part', `part ${String(partNumber)} is outside the plan of ${plan.partCount} parts`)
  }
  return partNumber < plan.partCount ? plan.partSize : plan.size - plan.partSize * (plan.partCount - 1)
}

/** Byte range [start, end) of part `partNumber` in the file. */
export function partRange(plan: PartPlan, partNumber: number): { start: number; end: number } {
  const start = (partNumber - 1) * plan.partSize
  return { start, end: start + partSizeOf(plan, partNumber) }
}
