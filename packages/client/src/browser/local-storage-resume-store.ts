/** Resume state in `localStorage`: the fallback where IndexedDB is missing or refuses to open. */
import type { ResumeState, ResumeStore } from '../ports.js'
import { isExpired, isResumeState } from '../resume/resume-state.js'

/** What the store needs of `Storage`: tests pass a Map-backed fake. */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>

export interface LocalStorageResumeStoreOptions {
  /** @default globalThis.localStorage */
  storage?: StorageLike
  /** @default 'valet.upload.' */
  prefix?: string
}

/**
 * A {@link ResumeStore} in `localStorage`, one JSON item per unfinished upload. Expired items
 * are swept on first use, so abandoned uploads don't pile up.
 *
 * @example
 * ```ts
 * import { createUploader, createLocalStorageResumeStore } from '@valet/client'
 * createUploader({ endpoint: '/api/valet', resume: createLocalStorageResumeStore() })
 * ```
 */
export function createLocalStorageResumeStore(options: LocalStorageResumeStoreOptions = {}): ResumeStore {
  const prefix = options.prefix ?? 'valet.upload.'
  const storage = (): StorageLike => {
    const s = options.storage ?? globalThis.localStorage
    if (s === undefined || s === null) throw new Error('localStorage is not available')
    return s
  }
  let swept = false
  const sweep = (s: StorageLike): void => {
    if (swept) return
    swept = true
    const now = Date.now()
    const stale: string[] = []
    for (let i = 0; i < s.length; i++) {
      const k = s.key(i)
      if (k === null || !k.startsWith(prefix)) continue
      const state = parse(s.getItem(k))
      if (state === undefined || isExpired(state, now)) stale.push(k)
    }
    for (const k of stale) s.removeItem(k)
  }
  return {
    async get(fingerprint) {
      const s = storage()
      sweep(s)
      return parse(s.getItem(prefix + fingerprint))
    },
    async set(fingerprint, state) {
      const s = storage()
      sweep(s)
      s.setItem(prefix + fingerprint, JSON.stringify(state))
    },
    async remove(fingerprint) {
      storage().removeItem(prefix + fingerprint)
    },
  }
}

function parse(text: string | null): ResumeState | undefined {
  if (text === null) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return isResumeState(value) ? value : undefined
  } catch {
    return undefined
  }
}
