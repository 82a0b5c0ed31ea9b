import { homedir } from 'node:os'
import { join } from 'node:path'
import { isDownloadState, type DownloadStateStore } from '../download/download-ports.js'
import { jsonFileStore } from './file-resume-store.js'

/** Where `resume: true` keeps download state in Node unless `stateDir` says otherwise. */
export function defaultDownloadStateDir(): string {
  return join(homedir(), '.valet', 'downloads')
}

/**
 * A {@link DownloadStateStore} with one JSON file per unfinished download in `dir`, written
 * atomically; the directory is private to the user.
 *
 * @example
 * ```ts
 * createDownloader({ endpoint, resume: createFileDownloadStore('/var/lib/app/valet-downloads') })
 * ```
 */
export function createFileDownloadStore(dir: string = defaultDownloadStateDir()): DownloadStateStore {
  return jsonFileStore(dir, isDownloadState)
}
