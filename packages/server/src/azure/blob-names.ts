/**
 * Blob names the provider writes besides the objects themselves. Everything lives under
 * `.valet/` in the upload container: staging blobs (the only names a valet key is ever signed
 * for) and records. Object keys are never inside it, so no key and no record can name an object.
 */
import { ValetError } from '@valet/protocol'
import { isUploadId } from './block-id.js'

export const PRIVATE_PREFIX = '.valet/'
export const STAGING_PREFIX = `${PRIVATE_PREFIX}staging/`
// What the core's `principalPrefix` produces: injective, URL-safe, no dots, so `owner/` can never
// be a prefix of another owner's folder and never climbs out of `staging/`.
const OWNER = /^[A-Za-z0-9_~-]{1,512}$/
// Record names are the core's: path segments of safe characters, none starting with a dot.
const RECORD = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$/

function contract(message: string, context: Record<string, unknown>): never {
  // A caller broke the provider contract (the core passes these values): a bug, not bad input.
  throw new ValetError('internal_error', `azure(): ${message}`, { context })
}

/** `.valet/staging/<owner>/`: the folder holding every open upload of one principal. */
export function stagingPrefix(owner: string): string {
  if (typeof owner !== 'string' || !OWNER.test(owner)) contract('owner must be [A-Za-z0-9_~-]+ (principalPrefix)', { owner })
  return `${STAGING_PREFIX}${owner}/`
}

/** The staging blob of one upload: the parts are blocks of it until complete copies it to the key. */
export function stagingName(owner: string, uploadId: string): string {
  if (!isUploadId(uploadId)) throw new ValetError('upload_not_found', 'not an Azure upload id', { context: { uploadId } })
  return `${stagingPrefix(owner)}${uploadId}`
}

/** The blob holding record `name`: `.valet/<name>`, never inside `staging/`. */
export function recordBlobName(name: string): string {
  if (typeof name !== 'string' || name.length > 512 || !RECORD.test(name) || name.startsWith('staging/')) {
    contract('record names are path segments of [A-Za-z0-9._~-] not starting with a dot, outside staging/', { name })
  }
  return `${PRIVATE_PREFIX}${name}`
}

/** Refuses object keys inside the private prefix: an object there could be mistaken for Valet's own. */
export function checkObjectKey(key: string): void {
  if (typeof key !== 'string' || key === '') contract('the object key must be a non-empty string', { key })
  if (key.startsWith(PRIVATE_PREFIX) || key === PRIVATE_PREFIX.slice(0, -1)) {
    contract(`object keys must not start with ${PRIVATE_PREFIX} (the provider's private prefix)`, { key })
  }
}
