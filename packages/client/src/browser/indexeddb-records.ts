/**
 * One IndexedDB object store of records keyed by fingerprint, as the upload resume store and the
 * download state store both keep them: the database opens on first use (and again after another
 * tab's newer version closed it), records that `keep` refuses are swept on open, and each call is
 * one transaction that must commit.
 */

export interface IndexedDbRecordsOptions {
  database: string
  store: string
  /** `undefined`: the database's current version, upgraded once if it lacks `store`. */
  version?: number
  factory?: IDBFactory
  /** Whether a stored value is still worth keeping (valid, not expired) at `now`. */
  keep(value: unknown, now: number): boolean
}

export interface IndexedDbRecords {
  ready(): Promise<void>
  get(key: string): Promise<unknown>
  put(key: string, value: unknown): Promise<void>
  remove(key: string): Promise<void>
}

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

function openAt(factory: IDBFactory, name: string, store: string, version?: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, version)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error(`IndexedDB refused to open "${name}"`))
    // Another tab holds an older version open; waiting would hang the transfer.
    request.onblocked = () => reject(new Error(`IndexedDB "${name}" is blocked by another tab`))
  })
}

/** At `version`, or at whatever version it has and upgraded once if it lacks `store` (created by other code under this name). */
async function open(factory: IDBFactory, name: string, store: string, version: number | undefined): Promise<IDBDatabase> {
  const db = await openAt(factory, name, store, version)
  if (version !== undefined || db.objectStoreNames.contains(store)) return db
  const next = db.version + 1
  db.close()
  return openAt(factory, name, store, next)
}

async function sweep(db: IDBDatabase, store: string, keep: (value: unknown, now: number) => boolean): Promise<void> {
  const tx = db.transaction(store, 'readwrite')
  const request = tx.objectStore(store).openCursor()
  const now = Date.now()
  request.onsuccess = () => {
    const cursor = request.result
    if (cursor === null) return
    if (!keep(cursor.value, now)) cursor.delete()
    cursor.continue()
  }
  await committed(tx)
}

export function indexedDbRecords(options: IndexedDbRecordsOptions): IndexedDbRecords {
  const { database: name, store, version, keep } = options
  let db: Promise<IDBDatabase> | undefined
  const database = (): Promise<IDBDatabase> => {
    db ??= (async () => {
      const factory = options.factory ?? globalThis.indexedDB
      if (factory === undefined || factory === null) throw new Error('IndexedDB is not available')
      const opened = await open(factory, name, store, version)
      // A newer version elsewhere (another tab of a later release) wins; reopen next time.
      opened.onversionchange = () => {
        opened.close()
        db = undefined
      }
      await sweep(opened, store, keep).catch(() => {})
      return opened
    })()
    db.catch(() => {
      db = undefined
    })
    return db
  }
  const run = async <T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const tx = (await database()).transaction(store, mode)
    const result = done(work(tx.objectStore(store)))
    await committed(tx)
    return result
  }
  return {
    async ready() {
      await database()
    },
    get: (key) => run('readonly', (s) => s.get(key)),
    async put(key, value) {
      await run('readwrite', (s) => s.put(value, key))
    },
    async remove(key) {
      await run('readwrite', (s) => s.delete(key))
    },
  }
}
