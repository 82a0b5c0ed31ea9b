/**
 * Download state in IndexedDB, in a database of its own: the upload store's database keeps its
 * version (a new object store there would need an upgrade, blocked by any tab of an older
 * release still open).
 */
import { isDownloadState, type DownloadState, type DownloadStateStore } from '../download/download-ports.js'

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

const STORE = 'downloads'
const WEEK = 7 * 24 * 3600 * 1000

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

function openAt(factory: IDBFactory, name: string, version?: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, version)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error(`IndexedDB refused to open "${name}"`))
    // Another tab holds an older version open; waiting would hang the download.
    request.onblocked = () => reject(new Error(`IndexedDB "${name}" is blocked by another tab`))
  })
}

/**
 * Opens the database at whatever version it has; one that exists without our object store
 * (created by other code under this name) is upgraded once to add it.
 */
async function open(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  const db = await openAt(factory, name)
  if (db.objectStoreNames.contains(STORE)) return db
  const version = db.version + 1
  db.close()
  return openAt(factory, name, version)
}

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
  const name = options.database ?? 'valet-downloads'
  const maxAge = options.maxAge ?? WEEK
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
      await sweep(opened, maxAge).catch(() => {})
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
      return isFresh(value, Date.now(), maxAge) ? value : undefined
    },
    async set(fingerprint, state) {
      await run('readwrite', (s) => s.put({ ...state, done: [...state.done] }, fingerprint))
    },
    async remove(fingerprint) {
      await run('readwrite', (s) => s.delete(fingerprint))
    },
  }
}

async function sweep(db: IDBDatabase, maxAge: number): Promise<void> {
  const tx = db.transaction(STORE, 'readwrite')
  const request = tx.objectStore(STORE).openCursor()
  const now = Date.now()
  request.onsuccess = () => {
    const cursor = request.result
    if (cursor === null) return
    if (!isFresh(cursor.value, now, maxAge)) cursor.delete()
    cursor.continue()
  }
  await committed(tx)
}
