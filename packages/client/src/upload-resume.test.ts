import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { HttpResponse } from 'msw'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createUploader, type ResumeState, type ResumeStore } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { server, setup } = useFakeValet({ partSize: 1000 })
let dir: string
let stateDir: string
let file: string
const data = testBytes(8000, 9)
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'valet-resume-'))
  stateDir = join(dir, 'state')
  file = join(dir, 'big.bin')
  writeFileSync(file, data)
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})
const stateFiles = () => readdirSync(stateDir)

/** A first process that stores parts 1–3, then dies (every later PUT fails, no retries). */
async function crashAfterThreeParts(fake: ReturnType<typeof setup>) {
  fake.options.onPut = ({ partNumber }) => (partNumber > 3 ? HttpResponse.error() : undefined)
  const first = createUploader({ endpoint: ENDPOINT, stateDir, concurrency: 1, retries: 0 })
  await expect(first.upload(file).done).rejects.toMatchObject({ code: 'retries_exhausted' })
  fake.options.onPut = undefined
  expect(stateFiles()).toHaveLength(1)
}

describe('resume across processes', () => {
  it('a new uploader with the same state dir uploads only the missing parts', async () => {
    const fake = setup()
    await crashAfterThreeParts(fake)
    fake.stats.puts.clear()
    const result = await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
    expect(result).toMatchObject({ uploadId: 'up-1', size: 8000, partsResumed: 3 })
    expect(fake.stats.creates).toBe(1)
    expect(fake.stats.lists).toBe(1)
    expect([...fake.stats.puts.keys()].sort()).toEqual([4, 5, 6, 7, 8])
    expect(fake.stats.signBatches.flat().filter((n) => n <= 3)).toHaveLength(3) // signed only in the first run
    expect(stateFiles()).toEqual([]) // removed on success
  })

  it('after a crash during complete, sends the same complete again without listing (a spent token lists nothing)', async () => {
    const fake = setup()
    // The first process dies once its complete is sent: the state names every part.
    fake.options.onEndpoint = (operation) => (operation === 'complete' ? HttpResponse.error() : undefined)
    await expect(createUploader({ endpoint: ENDPOINT, stateDir, retries: 0, retryWindow: 0 }).upload(file).done).rejects.toMatchObject({ code: 'retries_exhausted' })
    const [saved] = stateFiles()
    const state = JSON.parse(readFileSync(join(stateDir, saved!), 'utf8')) as ResumeState
    expect(state.completing).toHaveLength(8)
    fake.options.onEndpoint = undefined
    const puts = fake.stats.puts.size
    const result = await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
    expect(result).toMatchObject({ uploadId: 'up-1', size: 8000 })
    expect([fake.stats.lists, fake.stats.creates, fake.stats.puts.size]).toEqual([0, 1, puts])
    expect(fake.stats.completes.at(-1)).toEqual(state.completing)
    expect(stateFiles()).toEqual([])
  })

  it('re-uploads a stored part whose etag is not the MD5 of our bytes', async () => {
    const fake = setup()
    await crashAfterThreeParts(fake)
    const part2 = fake.uploads.get('up-1')?.parts.get(2)
    if (part2) part2.etag = '"ffffffffffffffffffffffffffffffff"'
    fake.stats.puts.clear()
    await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
    expect([...fake.stats.puts.keys()].sort()).toEqual([2, 4, 5, 6, 7, 8])
  })

  it('starts over when the server no longer knows the upload or the token expired', async () => {
    for (const code of ['token_expired', 'upload_not_found'] as const) {
      const fake = setup()
      await crashAfterThreeParts(fake)
      fake.options.onEndpoint = (op) => (op === 'list' ? HttpResponse.json({ error: { code, message: code } }, { status: code === 'token_expired' ? 401 : 404 }) : undefined)
      const result = await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
      expect(result.uploadId).toBe('up-2')
      expect(fake.stats.creates).toBe(2)
      expect(stateFiles()).toEqual([])
      server.resetHandlers()
    }
  })

  it('does not resume a file whose content changed (different fingerprint or different etags)', async () => {
    const fake = setup()
    await crashAfterThreeParts(fake)
    writeFileSync(file, testBytes(8000, 10)) // same size, new mtime and bytes
    const result = await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
    expect(result.uploadId).toBe('up-2')
  })

  it('aborts, rather than leaves open, a saved upload it will not continue (token about to expire by this clock)', async () => {
    const fake = setup()
    await crashAfterThreeParts(fake)
    // A clock 10 minutes fast sees a token with 9 minutes left as too close to its expiry.
    const [name] = stateFiles()
    const path = join(stateDir, name!)
    const state = JSON.parse(readFileSync(path, 'utf8')) as ResumeState
    writeFileSync(path, JSON.stringify({ ...state, expiresAt: new Date(Date.now() + 30_000).toISOString() }))
    const result = await createUploader({ endpoint: ENDPOINT, stateDir }).upload(file).done
    expect(result.uploadId).toBe('up-2')
    expect(fake.uploads.get('up-1')?.state).toBe('aborted')
    expect(fake.stats.deletes).toBe(1)
  })

  it('keeps no state for streams (they cannot be read again after a restart)', async () => {
    setup()
    const sets: ResumeState[] = []
    const store: ResumeStore = { get: async () => undefined, set: async (_fp, s) => void sets.push(s), remove: async () => {} }
    await createUploader({ endpoint: ENDPOINT, resume: store }).upload(Readable.from([Buffer.from(data)]), { name: 's', size: 8000 }).done
    expect(sets).toEqual([])
  })

  it('fails with resume_failed when the store cannot save, and aborts the orphan upload', async () => {
    const fake = setup()
    // The pending create (before create) still fits; the full state (after) does not.
    const store: ResumeStore = { get: async () => undefined, set: async (_fp, s) => { if (!s.pending) throw new Error('disk full') }, remove: async () => {} }
    await expect(createUploader({ endpoint: ENDPOINT, resume: store }).upload(file).done).rejects.toMatchObject({
      code: 'resume_failed', message: expect.stringContaining('disk full'),
    })
    expect(fake.uploads.get('up-1')?.state).toBe('aborted')
  })
})
