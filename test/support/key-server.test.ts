/**
 * The kit's own promises, on the in-memory provider (no storage process needed): the call log,
 * holds before and after storage, faults, and the one classifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryStorage, type MemoryStorage } from '../../packages/server/src/testing/memory-storage.js'
import { classify } from './key-calls.js'
import { startKeyServer, type KeyServer } from './key-server.js'

let memory: MemoryStorage
let keys: KeyServer
beforeAll(async () => {
  memory = memoryStorage()
  keys = await startKeyServer(memory.storage)
})
afterAll(() => keys.close())

const json = { 'content-type': 'application/json', 'x-user': 'kit' }
const create = (requestId?: string) =>
  fetch(`${keys.endpoint}/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'a.bin', size: 6 * 1024 * 1024, ...(requestId ? { requestId } : {}) }) })

describe('key-server kit', () => {
  it('classifies the five routes and the two batch routes below any base path', () => {
    expect(classify('POST', '/api/valet/uploads')).toBe('create')
    expect(classify('POST', '/x/uploads/u%2F1/parts')).toBe('sign')
    expect(classify('GET', '/x/uploads/u1/parts')).toBe('list')
    expect(classify('POST', '/x/uploads/u1/complete')).toBe('complete')
    expect(classify('DELETE', '/x/uploads/u1')).toBe('abort')
    expect(classify('POST', '/x/downloads')).toBe('open-download')
    expect(classify('POST', '/x/downloads/ranges')).toBe('sign-ranges')
    expect(classify('GET', '/x/uploads')).toBe('other')
    expect(classify('POST', '/api/valet/uploads/batch')).toBe('create-batch')
    expect(classify('POST', '/api/valet/uploads/batch/complete')).toBe('complete-batch')
  })

  it('logs a call with its bodies, upload id, principal and delivery', async () => {
    const from = keys.calls.length
    const res = await create()
    expect(res.status).toBe(201)
    const up = (await res.json()) as { uploadId: string; key: string }
    await keys.idle()
    const [call] = keys.calls.slice(from)
    expect(call).toMatchObject({ op: 'create', endpoint: '/api/valet', status: 201, uploadId: up.uploadId, key: up.key, user: 'kit', handled: true, delivered: true, cutOff: false })
    expect(call!.request).toMatchObject({ name: 'a.bin' })
    expect(call!.ms).toBeGreaterThanOrEqual(0)
    expect(keys.of('create')).toContain(call)
  })

  it('holds a create after storage made the upload, until released', async () => {
    const hold = keys.hold('create', 'after')
    const before = memory.uploads.size
    const answer = create()
    const call = await hold.reached
    expect([call.held, call.status, memory.uploads.size]).toEqual(['after', 201, before + 1])
    expect(call.delivered).toBe(false)
    hold.release()
    expect((await answer).status).toBe(201)
  })

  it('holds a create before storage: storage untouched while held', async () => {
    const hold = keys.hold('create', 'before')
    const before = memory.uploads.size
    const answer = create()
    const call = await hold.reached
    expect([call.held, call.status, memory.uploads.size]).toEqual(['before', undefined, before])
    hold.release()
    expect((await answer).status).toBe(201)
  })

  it('answers an error status, or drops the connection, in place of the endpoint', async () => {
    keys.fault('create', { status: 503 })
    const refused = await create()
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('internal_error')
    expect((await create()).status).toBe(201)

    const before = memory.uploads.size
    keys.fault('create', 'drop', { at: 'after' })
    const from = keys.calls.length
    await expect(create()).rejects.toThrow()
    await keys.idle()
    const [dropped] = keys.calls.slice(from)
    // Storage carried it out; the client never heard.
    expect(dropped).toMatchObject({ fault: 'drop', cutOff: true, delivered: false })
    expect(dropped!.status).toBeUndefined()
    expect(memory.uploads.size).toBe(before + 1)
  })
})
