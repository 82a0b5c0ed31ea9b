import type { ResumeState, ResumeStore } from '../ports.js'

/**
 * A {@link ResumeStore} in memory: uploads resume within this process only (after a failure,
 * say), never after a restart.
 *
 * @example
 * ```ts
 * createUploader({ endpoint, resume: createMemoryResumeStore() })
 * ```
 */
export function createMemoryResumeStore(): ResumeStore {
  const states = new Map<string, ResumeState>()
  return {
    async get(fingerprint) {
      const state = states.get(fingerprint)
      return state === undefined ? undefined : { ...state }
    },
    async set(fingerprint, state) {
      states.set(fingerprint, { ...state })
    },
    async remove(fingerprint) {
      states.delete(fingerprint)
    },
  }
}
