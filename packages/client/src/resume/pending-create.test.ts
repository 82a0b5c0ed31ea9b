import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpResponse } from 'msw'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { REQUEST_ID_PATTERN } from '@valet/protocol'
import { createUploader, type ResumeState, type ResumeStore } from '../index.node.js'
import { PENDING_CREATE_TTL_MS, newRequestId, pendingCreate } from './pending-create.js'
import { ENDPOINT, testBytes } from '../testing/fake-valet.js'
import { useFakeValet } from '../testing/msw-server.js'

const { server, setup } = useFakeValet({ partSize: 1000 })
let dir: string
let file: string
const data = testBytes(5000, 3)
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'valet-pending-'))
  file = join(dir, 'f.bin')
  writeFileSync(file, data)
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** A store that keeps every state it was given, in order, and what it holds now. */
function recordingStore(initial?: ResumeState) {
  const states = new Map<string, ResumeState>()
  const sets: ResumeState[] = []
  let fingerprint: string | undefined
  const store: ResumeStore = {
    async get(fp) {
      fingerprint = fp
      if (initial !== undefined && !states.has(fp)) states.set(fp, { ...initial })
      const s = states.get(fp)
      return s && { ...s }
    },
    async set(fp, s) {
      sets.push({ ...s })
      states.set(fp, { ...s })
    },
    async remove(fp) {
      states.delete(fp)
    },
  }
  return { store, sets, now: () => (fingerprint === undefined ? undefined : states.get(fingerprint)) }
}

const fast = { retryDelay: 1, maxRetryDelay: 5 }
/** The create body the server got, as the server would have processed it (answer lost on the way back). */
const createOnServer = (body: object) =>
  fetch(`${ENDPOINT}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('pending create (idempotent create across crashes)', () => {
  it('saves a pending create with a fresh requestId before create is sent, and sends that requestId', async () => {
    const fake = setup()
    const { store, now } = recordingStore()
    let atCreate: ResumeState | undefined
    fake.options.onEndpoint = (op) => {
      if (op === 'create') atCreate = now()
      return undefined
    }
    await createUploader({ endpoint: ENDPOINT, resume: store, ...fast }).upload(file).done
    expect(atCreate).toMatchObject({ version: 1, pending: true, size: data.length, uploadId: '', token: '' })
    expect(atCreate!.requestId).toMatch(REQUEST_ID_PATTERN)
    expect(fake.stats.createBodies.map((b) => b.requestId)).toEqual([atCreate!.requestId])
    const ttl = Date.parse(atCreate!.expiresAt) - Date.parse(atCreate!.createdAt)
    expect(ttl).toBe(PENDING_CREATE_TTL_MS)
    expect(now(), 'removed once complete').toBeUndefined()
  })

  it('replaces the pending create with the full state once create answers', async () => {
    const fake = setup()
    const { store, sets, now } = recordingStore()
    fake.options.onPut = () => HttpResponse.error()
    await expect(createUploader({ endpoint: ENDPOINT, resume: store, retries: 0, retryWindow: 0, ...fast }).upload(file).done).rejects.toMatchObject({ code: 'retries_exhausted' })
    expect(sets.map((s) => s.pending ?? false)).toEqual([true, false])
    const state = now()!
    expect(state).toMatchObject({
      uploadId: 'up-1', key: expect.stringMatching(/^alice\/[^/]+\/f\.bin$/), token: expect.stringMatching(/^v1\./), partSize: 1000, partCount: 5,
    })
    expect(state.pending).toBeUndefined()
    expect(state.requestId).toBeUndefined()
  })

  it('after a crash between create and saving its answer, sends the same requestId and continues the same upload', async () => {
    const fake = setup()
    const requestId = newRequestId()
    // What a process killed there leaves: its pending create, and the upload the server started.
    const { store, sets, now } = recordingStore(pendingCreate(requestId, data.length, Date.now() - 60_000))
    expect((await createOnServer({ name: 'f.bin', size: data.length, type: 'application/octet-stream', requestId })).status).toBe(201)
    const result = await createUploader({ endpoint: ENDPOINT, resume: store, ...fast }).upload(file).done
    expect(result.uploadId).toBe('up-1')
    expect(fake.stats.creates, 'no second upload').toBe(1)
    expect(fake.stats.createBodies.map((b) => b.requestId)).toEqual([requestId, requestId])
    expect(sets.map((s) => s.pending ?? false), 'the pending create is not written again, the full state is').toEqual([false, false])
    expect(sets[1]!.completing, 'then the parts, before complete is sent').toHaveLength(5)
    expect(now()).toBeUndefined()
  })

  it('ignores a stale pending create, and one for another size: a fresh requestId replaces it', async () => {
    for (const old of [pendingCreate(newRequestId(), data.length, Date.now() - PENDING_CREATE_TTL_MS - 1000), pendingCreate(newRequestId(), data.length + 1, Date.now())]) {
      const fake = setup()
      const { store, sets } = recordingStore(old)
      await createUploader({ endpoint: ENDPOINT, resume: store, ...fast }).upload(file).done
      const sent = fake.stats.createBodies[0]!.requestId
      expect(sent).toMatch(REQUEST_ID_PATTERN)
      expect(sent).not.toBe(old.requestId)
      expect(sets[0]).toMatchObject({ pending: true, requestId: sent })
      server.resetHandlers()
    }
  })

  it('sends the same requestId on every attempt of one create, so a lost answer costs no second upload', async () => {
    const fake = setup()
    let attempts = 0
    fake.options.onEndpoint = async (op, request) => {
      if (op !== 'create' || ++attempts !== 1) return undefined
      // The server carries out the first attempt; its answer never reaches the client.
      await createOnServer(await request.clone().json())
      return HttpResponse.error()
    }
    const result = await createUploader({ endpoint: ENDPOINT, resume: false, ...fast }).upload(file, { name: 'f.bin' }).done
    expect(result.uploadId).toBe('up-1')
    expect(fake.stats.creates).toBe(1)
    const ids = fake.stats.createBodies.map((b) => b.requestId)
    expect(ids).toHaveLength(2)
    expect(new Set(ids).size).toBe(1)
  })

  it('abort() while create is in flight deletes the upload that create started', async () => {
    const fake = setup()
    const { store, now } = recordingStore()
    let attempts = 0
    const upload = createUploader({ endpoint: ENDPOINT, resume: store, ...fast }).upload(file)
    fake.options.onEndpoint = async (op, request) => {
      if (op !== 'create' || ++attempts !== 1) return undefined
      await createOnServer(await request.clone().json())
      upload.abort()
      return new Promise<Response>(() => {}) // the answer never comes
    }
    await expect(upload.done).rejects.toMatchObject({ code: 'aborted' })
    expect(fake.stats.creates).toBe(1)
    expect(fake.uploads.get('up-1')?.state).toBe('aborted')
    expect(now(), 'nothing left to resume').toBeUndefined()
  })

  it('forgets the pending create when the server refuses the create (4xx), keeps it when the answer never came', async () => {
    const fake = setup()
    const refusing = recordingStore()
    fake.options.onEndpoint = (op) => (op === 'create' ? HttpResponse.json({ error: { code: 'type_not_allowed', message: 'no' } }, { status: 415 }) : undefined)
    await expect(createUploader({ endpoint: ENDPOINT, resume: refusing.store, ...fast }).upload(file).done).rejects.toMatchObject({ code: 'type_not_allowed' })
    expect(refusing.sets.map((s) => s.pending)).toEqual([true])
    expect(refusing.now()).toBeUndefined()

    const silent = recordingStore()
    fake.options.onEndpoint = (op) => (op === 'create' ? HttpResponse.error() : undefined)
    await expect(createUploader({ endpoint: ENDPOINT, resume: silent.store, retries: 0, retryWindow: 0, ...fast }).upload(file).done).rejects.toMatchObject({ code: 'retries_exhausted' })
    expect(silent.now()).toMatchObject({ pending: true })
  })

  it('fails with resume_failed before any create when the pending create cannot be saved', async () => {
    const fake = setup()
    const store: ResumeStore = { get: async () => undefined, set: async () => { throw new Error('disk full') }, remove: async () => {} }
    await expect(createUploader({ endpoint: ENDPOINT, resume: store }).upload(file).done).rejects.toMatchObject({ code: 'resume_failed', message: expect.stringContaining('disk full') })
    expect(fake.stats.createBodies).toEqual([])
  })
})
