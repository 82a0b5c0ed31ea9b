import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResumeState } from '../ports.js'
import { createFileResumeStore } from './file-resume-store.js'
import { pendingCreate } from '../resume/pending-create.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function store() {
  const root = mkdtempSync(join(tmpdir(), 'valet-store-'))
  dirs.push(root)
  const dir = join(root, 'nested', 'state')
  return { dir, store: createFileResumeStore(dir) }
}
const state: ResumeState = {
  version: 1, uploadId: 'u1', key: 'k', token: 't', partSize: 5, partCount: 2, size: 10,
  createdAt: '2030-01-01T00:00:00.000Z', expiresAt: '2030-01-02T00:00:00.000Z',
}
const fp = 'a'.repeat(32)

describe('createFileResumeStore', () => {
  it('round-trips state in a private JSON file per fingerprint, leaving no temp files', async () => {
    const { dir, store: s } = store()
    expect(await s.get(fp)).toBeUndefined()
    await s.set(fp, state)
    await s.set(fp, { ...state, uploadId: 'u2' })
    expect(await s.get(fp)).toEqual({ ...state, uploadId: 'u2' })
    expect(readdirSync(dir)).toEqual([`${fp}.json`])
    expect(statSync(join(dir, `${fp}.json`)).mode & 0o777).toBe(0o600)
    await s.remove(fp)
    await s.remove(fp)
    expect(await s.get(fp)).toBeUndefined()
  })

  it('round-trips a pending create, then the state that replaces it', async () => {
    const { store: s } = store()
    const pending = pendingCreate('AAAAAAAAAAAAAAAAAAAAAA', 10, Date.parse('2030-01-01T00:00:00.000Z'))
    await s.set(fp, pending)
    expect(await s.get(fp)).toEqual(pending)
    await s.set(fp, state)
    expect(await s.get(fp)).toEqual(state)
    await s.set(fp, { ...pending, requestId: 'bad id' })
    expect(await s.get(fp)).toBeUndefined()
  })

  it('treats a damaged or foreign file as no state', async () => {
    const { dir, store: s } = store()
    await s.set(fp, state)
    writeFileSync(join(dir, `${fp}.json`), '{"version":1,"uploadId":')
    expect(await s.get(fp)).toBeUndefined()
    writeFileSync(join(dir, `${fp}.json`), '{"version":2}')
    expect(await s.get(fp)).toBeUndefined()
    // The same check as the browser stores: an empty token (or id, or key) is not a state.
    writeFileSync(join(dir, `${fp}.json`), JSON.stringify({ ...state, token: '' }))
    expect(await s.get(fp)).toBeUndefined()
  })

  it('refuses fingerprints that are not hex (no paths outside the directory)', async () => {
    const { store: s } = store()
    await expect(s.get('../../etc/passwd')).rejects.toMatchObject({ code: 'resume_failed' })
    await expect(s.set('../x', { version: 1, uploadId: 'u', key: 'k', token: 't', partSize: 1, partCount: 1, size: 1, createdAt: '', expiresAt: '' })).rejects.toMatchObject({ code: 'resume_failed' })
  })
})
