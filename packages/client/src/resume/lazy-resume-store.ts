import type { ResumeStore } from '../ports.js'

/**
 * A {@link ResumeStore} whose code loads on first use (browsers: a chunk with IndexedDB and
 * localStorage support). A failed load is tried again on the next call.
 */
export function lazyResumeStore(load: () => Promise<ResumeStore>): ResumeStore {
  let store: Promise<ResumeStore> | undefined
  const ready = (): Promise<ResumeStore> =>
    (store ??= load().catch((error: unknown) => {
      store = undefined
      throw error
    }))
  return {
    get: (fingerprint) => ready().then((s) => s.get(fingerprint)),
    set: (fingerprint, state) => ready().then((s) => s.set(fingerprint, state)),
    remove: (fingerprint) => ready().then((s) => s.remove(fingerprint)),
  }
}
