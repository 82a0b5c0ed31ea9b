/** Resume state in IndexedDB: survives reloads and restarts, and isn't limited to 5 MB of strings. */
import type { ResumeStore } from '../ports.js'
import { isExpired, isResumeState } from '../resume/resume-state.js'
import { indexedDbRecords } from './indexeddb-records.js'

export interface IndexedDbResumeStoreOptions {
  /** Database name. @default 'valet' */
  database?: string
  /** @default globalThis.indexedDB */
  factory?: IDBFactory
}

/** A {@link ResumeStore} in IndexedDB. */
export interface IndexedDbResumeStore extends ResumeStore {
  /** Opens the database now rather than on first use; rejects where IndexedDB can't be used. */
  ready(): Promise<void>
}

/**
 * A {@link ResumeStore} in IndexedDB (one record per unfinished upload, keyed by fingerprint).
 * The database opens on first use; expired records are swept then.
 *
 * @example
 * ```ts
 * import { createUploader, createIndexedDbResumeStore } from '@valet/client'
 * createUploader({ endpoint: '/api/valet', resume: createIndexedDbResumeStore({ database: 'my-app-uploads' }) })
 * ```
 */
export function createIndexedDbResumeStore(options: IndexedDbResumeStoreOptions = {}): IndexedDbResumeStore {
  const records = indexedDbRecords({
    database: options.database ?? 'valet',
    store: 'uploads',
    version: 1,
    ...(options.factory === undefined ? {} : { factory: options.factory }),
    keep: (value, now) => isResumeState(value) && !isExpired(value, now),
  })
  return {
    ready: () => records.ready(),
    async get(fingerprint) {
      const value = await records.get(fingerprint)
      return isResumeState(value) ? value : undefined
    },
    set: (fingerprint, state) => records.put(fingerprint, { ...state }),
    remove: (fingerprint) => records.remove(fingerprint),
  }
}
