/**
 * @module @valet/client (Node entry) — parallel, verified, resumable multipart uploads straight
 * to storage with valet keys from `@valet/server`. Uploads file paths (read by ranges), bytes,
 * Blobs and Readables of known size; resume state lives in JSON files.
 */
import { bindUploader, type Uploader } from './create-uploader.js'
import { createAxiosTransport } from './http/axios-transport.js'
import type { UploaderOptions } from './normalize-options.js'
import type { PartBody } from './ports.js'
import { FileRange } from './node/file-range.js'
import { createFileResumeStore, defaultStateDir } from './node/file-resume-store.js'
import { nodeHasher } from './node/node-hasher.js'
import { prepareNodeSource, type NodeSource } from './node/prepare-node-source.js'
import * as engine from './engine/engine.js'

// File parts go out as a fresh stream of their range (a retry reads the file again); bytes as a
// Buffer view over the same memory, which axios's http adapter sends as it is.
function toBody(body: PartBody): unknown {
  if (body instanceof FileRange) return body.stream()
  return body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : body
}

const bindNode = bindUploader<NodeSource>({
  transport: createAxiosTransport({ adapter: 'http', toBody, setContentLength: true }),
  hasher: nodeHasher,
  defaults: {
    absoluteEndpoint: true,
    resumeStore: (stateDir) => createFileResumeStore(stateDir ?? defaultStateDir()),
  },
  prepareSource: prepareNodeSource,
  engine: async () => engine,
})

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
