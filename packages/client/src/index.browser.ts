/**
 * @module @valet/client (browser entry) — parallel, verified, resumable multipart uploads of
 * `File`s and `Blob`s straight to storage with valet keys from `@valet/server`. Parts are byte
 * ranges that Web Workers slice, hash (MD5) and send (XHR, with upload progress), so the page's
 * main thread never reads a file; resume state lives in IndexedDB (localStorage as a fallback),
 * so picking the same file again after a reload continues its upload. Downloads (`createDownloader`)
 * fetch verified ranges into the origin-private file system, then to a file handle, a stream or a
 * Blob; their code loads with the first download.
 */
import { bindUploader, type Uploader } from './create-uploader.js'
import type { UploaderOptions } from './normalize-options.js'
import { browserPlatform } from './browser/browser-platform.js'
import { withHashAhead } from './browser/hash-ahead.js'
import type { BrowserBody } from './browser/part-ref.js'
import type { Hasher } from './ports.js'
import { createMd5Hasher, createPartTransport, defaultWorkers, type Md5Hasher } from './browser/workers.js'
import type { BrowserSource } from './browser/prepare-browser-source.js'
import { bindDownloader, type Downloader } from './download/create-downloader.js'
import type { DownloaderOptions } from './download/download-options.js'
import { browserDownloadPlatform } from './browser/browser-download-platform.js'
import type { BrowserDestination } from './browser/prepare-browser-destination.js'

// One pool and one sending worker for every uploader on the page, started on first use:
// importing this module starts no thread, and many uploaders don't multiply threads.
let pool: Md5Hasher | undefined
const hasher: Hasher<BrowserBody> = withHashAhead(
  { md5: (body, signal) => (pool ??= createMd5Hasher()).md5(body, signal) },
  { ahead: defaultWorkers() },
)

const bindBrowser = bindUploader(browserPlatform({ hasher, transport: createPartTransport() }))

/**
 * Creates an uploader bound to one key endpoint. Throws `ValetError('invalid_option')` naming
 * the bad option. `endpoint` may be a path on the page's origin.
 *
 * @example
 * ```ts
 * import { createUploader } from '@valet/client'
 * const uploader = createUploader({ endpoint: '/api/valet', headers: () => ({ authorization: `Bearer ${token}` }) })
 * input.onchange = async () => {
 *   const upload = uploader.upload(input.files[0], {
 *     onProgress: (p) => (bar.value = p.bytesSent / p.bytesTotal),
 *   })
 *   pauseButton.onclick = () => upload.pause()
 *   const { key } = await upload.done
 * }
 * ```
 */
export function createUploader(options: UploaderOptions): Uploader<BrowserSource> {
  return bindBrowser(options)
}

let bindBrowserDownloader: ((options: DownloaderOptions) => Downloader<BrowserDestination>) | undefined

/**
 * Creates a downloader bound to one key endpoint (mounted with `canRead`). Ranges are fetched in
 * parallel straight from storage, each verified against the MD5s storage recorded at upload,
 * staged in the origin-private file system (so a reload continues where it stopped), and handed
 * to `destination` only once the whole object is verified: a `FileSystemFileHandle`, a
 * `WritableStream`, or nothing for a `Blob` in the result. The engine loads with the first
 * download. Throws `ValetError('invalid_option')` naming the bad option.
 *
 * @example
 * ```ts
 * import { createDownloader } from '@valet/client'
 * const downloader = createDownloader({ endpoint: '/api/valet', headers: () => ({ authorization: `Bearer ${token}` }) })
 * const handle = await showSaveFilePicker({ suggestedName: 'report.pdf' })
 * const dl = downloader.download(key, handle, { onProgress: (p) => (bar.value = p.bytesReceived / p.bytesTotal) })
 * const { verified } = await dl.done
 * // or, with no destination: const { blob } = await downloader.download(key, undefined).done
 * ```
 */
export function createDownloader(options: DownloaderOptions): Downloader<BrowserDestination> {
  // Bound on first use: a page that imports only createUploader leaves all of this out.
  bindBrowserDownloader ??= bindDownloader(browserDownloadPlatform())
  return bindBrowserDownloader(options)
}

export * from './public-exports.js'
export {
  createIndexedDbResumeStore,
  type IndexedDbResumeStore,
  type IndexedDbResumeStoreOptions,
} from './browser/indexeddb-resume-store.js'
export { createLocalStorageResumeStore, type LocalStorageResumeStoreOptions } from './browser/local-storage-resume-store.js'
export { createMd5Hasher, type Md5Engine, type Md5Hasher, type Md5HasherOptions } from './browser/workers.js'
export type { BrowserSource } from './browser/prepare-browser-source.js'
export type { BrowserDestination } from './browser/prepare-browser-destination.js'
export {
  createIndexedDbDownloadStore,
  type IndexedDbDownloadStore,
  type IndexedDbDownloadStoreOptions,
} from './browser/indexeddb-download-store.js'
