import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ValetError } from '@valet/protocol'
import type { ResumeStore } from '../ports.js'
import { isResumeState } from '../resume/resume-state.js'

/** Where `resume: true` keeps state in Node unless `stateDir` says otherwise. */
export function defaultStateDir(): string {
  return join(homedir(), '.valet', 'uploads')
}

/**
 * A store of one JSON file per fingerprint in `dir`, written atomically (temp file + rename) so
 * a crash mid-write leaves the old value or the new one, never half of each. The files hold
 * tokens: the directory is created private to the user. Shared by upload and download state.
 */
export function jsonFileStore<T>(dir: string, isValid: (value: unknown) => value is T): { get(fp: string): Promise<T | undefined>; set(fp: string, value: T): Promise<void>; remove(fp: string): Promise<void> } {
  const file = (fingerprint: string): string => {
    // Fingerprints are ours (hex), but a custom caller must not reach outside `dir`.
    if (!/^[0-9a-f]{8,128}$/.test(fingerprint)) throw new ValetError('resume_failed', `invalid fingerprint "${fingerprint}"`)
    return join(dir, `${fingerprint}.json`)
  }
  return {
    async get(fingerprint) {
      let text: string
      try {
        text = await readFile(file(fingerprint), 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
      try {
        const value: unknown = JSON.parse(text)
        return isValid(value) ? value : undefined
      } catch {
        return undefined // a damaged file means "nothing to resume", not a failed transfer
      }
    },
    async set(fingerprint, value) {
      const target = file(fingerprint)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
      try {
        await writeFile(temp, JSON.stringify(value), { mode: 0o600 })
        await rename(temp, target)
      } catch (e) {
        await rm(temp, { force: true }).catch(() => {})
        throw e
      }
    },
    async remove(fingerprint) {
      await rm(file(fingerprint), { force: true })
    },
  }
}

/**
 * A {@link ResumeStore} with one JSON file per upload in `dir` (see {@link jsonFileStore}).
 *
 * @example
 * ```ts
 * createUploader({ endpoint, resume: createFileResumeStore('/var/lib/app/valet') })
 * ```
 */
export function createFileResumeStore(dir: string = defaultStateDir()): ResumeStore {
  return jsonFileStore(dir, isResumeState)
}
