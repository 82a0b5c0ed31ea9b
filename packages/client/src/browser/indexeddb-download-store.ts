/**
 * Download state in IndexedDB, in a database of its own: the upload store's database keeps its
 * version (a new object store there would need an upgrade, blocked by any tab of an older
 * release still open).
 */
import { isDownloadState, type DownloadState, type DownloadStateStore } from '../download/download-ports.js'
import { indexedDbRecords } from './indexeddb-records.js'

export interface IndexedDbDownloadStoreOptions {
  /** Database name. @default 'valet-downloads' */
  database?: string
  /** @default globalThis.indexedDB */
  factory?: IDBFactory
  /** States not written for this long are dropped when the database opens, ms. @default 7 days */
  maxAge?: number
}

/** A {@link DownloadStateStore} in IndexedDB. */
export interface IndexedDbDownloadStore extends DownloadStateStore {
  /** Opens the database now rather than on first use; rejects where IndexedDB can't be used. */
  ready(): Promise<void>
}

const WEEK = 7 * 24 * 3600 * 1000

/** Whether a stored value is a usable state written within `maxAge`. */
function isFresh(value: unknown, now: number, maxAge: number): value is DownloadState {
  if (!isDownloadState(value)) return false
  const at = Date.parse(value.updatedAt)
  return Number.isFinite(at) && now - at <= maxAge
}

/**
 * A {@link DownloadStateStore} in IndexedDB (one record per unfinished download, keyed by
 * fingerprint). `createDownloader` uses one with the defaults when `resume` is `true`; the
 * database opens on first use and drops states older than `maxAge` then.
 *
 * @example
 * ```ts
 * import { createDownloader, createIndexedDbDownloadStore } from '@valet/client'
 * createDownloader({ endpoint: '/api/valet', resume: createIndexedDbDownloadStore({ database: 'my-app-downloads' }) })
 * ```
 */
export function createIndexedDbDownloadStore(options: IndexedDbDownloadStoreOptions = {}): IndexedDbDownloadStore {
  const maxAge = options.maxAge ?? WEEK
  const records = indexedDbRecords({
    database: options.database ?? 'valet-downloads',
    store: 'downloads',
    ...(options.factory === undefined ? {} : { factory: options.factory }),
    keep: (value, now) => isFresh(value, now, maxAge),
  })
  return {
    ready: () => records.ready(),
    async get(fingerprint) {
      const value = await records.get(fingerprint)
      return isFresh(value, Date.now(), maxAge) ? value : undefined
    },
    set: (fingerprint, state) => records.put(fingerprint, { ...state, done: [...state.done] }),
    remove: (fingerprint) => records.remove(fingerprint),
  }
}
