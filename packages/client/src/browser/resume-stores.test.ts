import { describe, expect, it } from 'vitest'
import { createMemoryResumeStore } from '../resume/memory-resume-store.js'
import { pendingCreate } from '../resume/pending-create.js'
import type { ResumeState, ResumeStore } from '../ports.js'
import { createBrowserResumeStore, createFallbackResumeStore } from './browser-resume-store.js'
import { createIndexedDbResumeStore } from './indexeddb-resume-store.js'
import { createLocalStorageResumeStore, type StorageLike } from './local-storage-resume-store.js'
import { isResumeState } from '../resume/resume-state.js'

const state = (over: Partial<ResumeState> = {}): ResumeState => ({
  version: 1,
  uploadId: 'u-1',
  key: 'alice/1/a.bin',
  token: 'tok',
  partSize: 5,
  partCount: 2,
  size: 10,
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  ...over,
})

function fakeStorage(): StorageLike & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return {
    map,
    get length() {
      return map.size
    },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
  }
}

const failing = (message: string): ResumeStore => ({
  get: async () => {
    throw new Error(message)
  },
  set: async () => {
    throw new Error(message)
  },
  remove: async () => {
    throw new Error(message)
  },
})

describe('browser resume stores', () => {
  it('localStorage: keeps state per fingerprint under a prefix, and forgets it', async () => {
    const storage = fakeStorage()
    const store = createLocalStorageResumeStore({ storage })
    const saved = state()
    await store.set('abc', saved)
    expect([...storage.map.keys()]).toEqual(['valet.upload.abc'])
    expect(await store.get('abc')).toEqual(saved)
    await store.remove('abc')
    expect(await store.get('abc')).toBeUndefined()
  })

  it('localStorage: sweeps expired and unreadable entries on first use, ignores other keys', async () => {
    const storage = fakeStorage()
    storage.setItem('valet.upload.old', JSON.stringify(state({ expiresAt: new Date(Date.now() - 1000).toISOString() })))
    storage.setItem('valet.upload.junk', '{not json')
    storage.setItem('valet.upload.fresh', JSON.stringify(state()))
    storage.setItem('other-app', 'x')
    const store = createLocalStorageResumeStore({ storage })
    expect(await store.get('junk')).toBeUndefined()
    expect([...storage.map.keys()].sort()).toEqual(['other-app', 'valet.upload.fresh'])
  })

  it('checks the shape of what it reads back', () => {
    expect(isResumeState(state())).toBe(true)
    expect(isResumeState({ ...state(), version: 2 })).toBe(false)
    expect(isResumeState({ ...state(), partSize: '5' })).toBe(false)
    expect(isResumeState({ ...state(), token: '' })).toBe(false)
    expect(isResumeState(null)).toBe(false)
  })

  it('round-trips a pending create (saved before create: empty upload fields) and sweeps it only once stale', async () => {
    const storage = fakeStorage()
    const pending = pendingCreate('AAAAAAAAAAAAAAAAAAAAAA', 10, Date.now())
    await createLocalStorageResumeStore({ storage }).set('fp', pending)
    storage.setItem('valet.upload.stale', JSON.stringify(pendingCreate('BBBBBBBBBBBBBBBBBBBBBB', 10, Date.now() - 25 * 3600_000)))
    const store = createLocalStorageResumeStore({ storage })
    expect(await store.get('fp')).toEqual(pending)
    expect([...storage.map.keys()]).toEqual(['valet.upload.fp'])
    // A full state then replaces it, as after create.
    const full = state()
    await store.set('fp', full)
    expect(await store.get('fp')).toEqual(full)
  })

  it('checks the shape of a pending create too', () => {
    const pending = pendingCreate('AAAAAAAAAAAAAAAAAAAAAA', 10, Date.now())
    expect(isResumeState(pending)).toBe(true)
    expect(isResumeState({ ...pending, requestId: 'short' })).toBe(false)
    expect(isResumeState({ ...pending, size: 0 })).toBe(false)
    expect(isResumeState({ ...state(), pending: 'yes' })).toBe(false)
  })

  it('falls back to the next store when one fails, and stays there', async () => {
    const memory = createMemoryResumeStore()
    const store = createFallbackResumeStore([failing('IndexedDB is not available'), memory])
    await store.set('fp', state())
    expect(await memory.get('fp')).toBeDefined()
    expect(await store.get('fp')).toBeDefined()
    await store.remove('fp')
    expect(await memory.get('fp')).toBeUndefined()
  })

  it('the default store works where neither IndexedDB nor localStorage exists (memory)', async () => {
    expect(globalThis.indexedDB).toBeUndefined()
    const store = createBrowserResumeStore()
    await store.set('fp', state())
    expect((await store.get('fp'))?.uploadId).toBe('u-1')
  })

  it('IndexedDB without a factory rejects, so the fallback takes over', async () => {
    await expect(createIndexedDbResumeStore().get('fp')).rejects.toThrow(/IndexedDB is not available/)
  })
})
