/**
 * The store behind `resume: true` in browsers: IndexedDB, else localStorage, else memory. A
 * storage that fails (private modes, blocked third-party storage, quota) hands over to the next
 * instead of failing the upload: losing resumability is better than losing the upload.
 */
import { createMemoryResumeStore } from '../resume/memory-resume-store.js'
import type { ResumeStore } from '../ports.js'
import { createIndexedDbResumeStore } from './indexeddb-resume-store.js'
import { createLocalStorageResumeStore } from './local-storage-resume-store.js'

/** Stores to try, best first; the last one should not fail. */
export function createFallbackResumeStore(stores: ResumeStore[]): ResumeStore {
  let current = 0
  const attempt = async <T>(op: (store: ResumeStore) => Promise<T>): Promise<T> => {
    for (;;) {
      const store = stores[current]
      if (store === undefined) throw new Error('no resume store works here')
      try {
        return await op(store)
      } catch (error) {
        if (current >= stores.length - 1) throw error
        current++
      }
    }
  }
  return {
    get: (fingerprint) => attempt((s) => s.get(fingerprint)),
    set: (fingerprint, state) => attempt((s) => s.set(fingerprint, state)),
    remove: (fingerprint) => attempt((s) => s.remove(fingerprint)),
  }
}

export function createBrowserResumeStore(): ResumeStore {
  return createFallbackResumeStore([createIndexedDbResumeStore(), createLocalStorageResumeStore(), createMemoryResumeStore()])
}
