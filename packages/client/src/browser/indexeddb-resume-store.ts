/** Resume state in IndexedDB: survives reloads and restarts, and isn't limited to 5 MB of strings. */
import type { ResumeState, ResumeStore } from '../ports.js'
import { isExpired, isResumeState } from '../resume/resume-state.js'

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

const STORE = 'uploads'

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'))
  })
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })
}

function open(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, 1)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error(`IndexedDB refused to open "${name}"`))
    // Another tab holds an older version open; waiting would hang the upload.
    request.onblocked = () => reject(new Error(`IndexedDB "${name}" is blocked by another tab`))
  })
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
  const name = options.database ?? 'valet'
  let db: Promise<IDBDatabase> | undefined
  const database = (): Promise<IDBDatabase> => {
    db ??= (async () => {
      const factory = options.factory ?? globalThis.indexedDB
      if (factory === undefined || factory === null) throw new Error('IndexedDB is not available')
      const opened = await open(factory, name)
      // A newer version elsewhere (another tab of a later release) wins; reopen next time.
      opened.onversionchange = () => {
        opened.close()
        db = undefined
      }
      await sweep(opened).catch(() => {})
      return opened
    })()
    db.catch(() => {
      db = undefined
    })
    return db
  }
  const run = async <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const tx = (await database()).transaction(STORE, mode)
    const result = done(work(tx.objectStore(STORE)))
    await committed(tx)
    return result
  }
  return {
    async ready() {
      await database()
    },
    async get(fingerprint) {
      const value: unknown = await run('readonly', (s) => s.get(fingerprint))
      return isResumeState(value) ? value : undefined
    },
    async set(fingerprint, state) {
      await run('readwrite', (s) => s.put({ ...state }, fingerprint))
    },
    async remove(fingerprint) {
      await run('readwrite', (s) => s.delete(fingerprint))
    },
  }
}

async function sweep(db: IDBDatabase): Promise<void> {
  const tx = db.transaction(STORE, 'readwrite')
  const request = tx.objectStore(STORE).openCursor()
  const now = Date.now()
  request.onsuccess = () => {
    const cursor = request.result
    if (cursor === null) return
    const value: unknown = cursor.value
    if (!isResumeState(value) || isExpired(value as ResumeState, now)) cursor.delete()
    cursor.continue()
  }
  await committed(tx)
}
