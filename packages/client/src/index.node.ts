/**
 * @module @valet/client (Node entry) — parallel, verified, resumable multipart uploads straight
 * to storage with valet keys from `@valet/server`. Uploads file paths (read by ranges), bytes,
 * Blobs and Readables of known size; resume state lives in JSON files.
 */
import { bindUploader, type Uploader } from './create-uploader.js'
import type { UploaderOptions } from './normalize-options.js'
import { nodePlatform } from './node/node-platform.js'
import type { NodeSource } from './node/prepare-node-source.js'

const bindNode = bindUploader(nodePlatform())

/**
 * Creates an uploader bound to one key endpoint. Throws `ValetError('invalid_option')` naming
 * the bad option.
 *
 * @example
 * ```ts
 * import { createUploader } from '@valet/client'
 * const uploader = createUploader({
 *   endpoint: 'http://127.0.0.1:3000/api/valet',
 *   concurrency: 4,
 *   headers: () => ({ authorization: `Bearer ${token}` }),
 * })
 * const upload = uploader.upload('./backup.tar', { metadata: { owner: 'ops' } })
 * const { key, etag } = await upload.done
 * ```
 */
export function createUploader(options: UploaderOptions): Uploader<NodeSource> {
  return bindNode(options)
}

export * from './public-exports.js'
export { createFileResumeStore, defaultStateDir } from './node/file-resume-store.js'
export type { NodeSource } from './node/prepare-node-source.js'
