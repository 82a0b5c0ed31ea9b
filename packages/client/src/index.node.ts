/**
 * @module @valet/client (Node entry) — parallel, verified, resumable multipart uploads straight
 * to storage with valet keys from `@valet/server`, and parallel, verified, resumable downloads
 * with read keys. Uploads file paths (read by ranges), bytes, Blobs and Readables of known size;
 * downloads to file paths; resume state lives in JSON files.
 */
import { bindUploader, type Uploader } from './create-uploader.js'
import type { UploaderOptions } from './normalize-options.js'
import { nodeDownloadPlatform, nodePlatform } from './node/node-platform.js'
import { bindDownloader, type Downloader } from './download/create-downloader.js'
import type { DownloaderOptions } from './download/download-options.js'
import type { NodeSource } from './node/prepare-node-source.js'

const platform = nodePlatform()
const bindNode = bindUploader(platform)
const bindDownload = bindDownloader(nodeDownloadPlatform(platform.transport))

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

/**
 * Creates a downloader bound to one key endpoint (mounted with `canRead`). Throws
 * `ValetError('invalid_option')` naming the bad option.
 *
 * @example
 * ```ts
 * import { createDownloader } from '@valet/client'
 * const downloader = createDownloader({ endpoint: 'http://127.0.0.1:3000/api/valet', concurrency: 4 })
 * const dl = downloader.download('u/alice/2026/12/07/…/backup.tar', './backup.tar', {
 *   onProgress: (p) => console.log(`${p.bytesReceived} / ${p.bytesTotal}`),
 * })
 * const { path, verified } = await dl.done // verified: 'parts' | 'md5' | 'size-etag'
 * ```
 */
export function createDownloader(options: DownloaderOptions): Downloader<string> {
  return bindDownload(options)
}

export * from './public-exports.js'
export { createFileDownloadStore, defaultDownloadStateDir } from './node/file-download-store.js'
export { createFileResumeStore, defaultStateDir } from './node/file-resume-store.js'
export type { NodeSource } from './node/prepare-node-source.js'
