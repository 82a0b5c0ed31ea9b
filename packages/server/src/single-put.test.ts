import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { testValet } from './testing/test-valet.js'

const bytes = new TextEncoder().encode('hello single put')
const md5 = createHash('md5').update(bytes).digest('base64')
const hex = createHash('md5').update(bytes).digest('hex')
const size = bytes.byteLength

/** Lands the object as the client's PUT with the create's key would. */
function land(t: ReturnType<typeof testValet>, up: { key: string; uploadId: string }, md5Of = md5, sizeOf = size): boolean {
  return t.putObject(up.key, up.uploadId, { size: sizeOf, md5: md5Of, etag: `"${hex}"` })
}

describe('single-PUT uploads', () => {
  it('signs one PUT at create with no storage call, and complete verifies the object', async () => {
    const t = testValet()
    const created = await t.create(size, { md5, requestId: 'r'.repeat(22) })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ mode: 'single', partCount: 1, parts: [{ partNumber: 1, method: 'PUT', headers: { 'Content-MD5': md5, 'If-None-Match': '*' } }] })
    expect(created.body.serverTime).toEqual(expect.any(String))
    // No lookup, no count, no create: only the key was signed.
    expect(t.calls).toEqual(['signObject'])
    expect((await t.call('GET', `/uploads/${created.body.uploadId}/parts`, undefined, { 'valet-token': created.body.token })).body).toEqual({ parts: [] })
    land(t, created.body)
    const listed = await t.call('GET', `/uploads/${created.body.uploadId}/parts`, undefined, { 'valet-token': created.body.token })
    expect(listed.body).toEqual({ parts: [{ partNumber: 1, size, etag: `"${hex}"` }] })
    const done = await t.call('POST', `/uploads/${created.body.uploadId}/complete`, { token: created.body.token, parts: [{ partNumber: 1, etag: 'whatever-the-client-saw' }] })
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ key: created.body.key, size, etag: `"${hex}"` })
  })

  it('goes multipart without md5, for files over one part, and on a provider without single PUT', async () => {
    expect((await testValet().create(size)).body.mode).toBeUndefined()
    expect((await testValet().create(20 * MiB, { md5 })).body.mode).toBeUndefined()
    expect((await testValet({}, { singlePut: false }).create(size, { md5 })).body.mode).toBeUndefined()
  })

  it('on a store without conditional PUTs, only keys unique to the upload go single', async () => {
    const unique = testValet({}, { singlePut: 'unconditional' })
    const u = await unique.create(size, { md5 })
    expect(u.body.mode).toBe('single')
    expect(u.body.parts[0].headers['If-None-Match']).toBeUndefined()
    const shared = testValet({ objectKey: ({ file }) => `shared/${file.name}` }, { singlePut: 'unconditional' })
    expect((await shared.create(size, { md5 })).body.mode).toBeUndefined()
  })

  it('refuses to complete before the PUT, or over bytes that are not the file', async () => {
    const t = testValet()
    const up = (await t.create(size, { md5 })).body
    const complete = () => t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts: [{ partNumber: 1, etag: hex }] })
    expect((await complete()).body.error.code).toBe('part_mismatch')
    land(t, up, createHash('md5').update('other').digest('base64'))
    expect((await complete()).body.error.code).toBe('object_exists')
  })

  it('runs onComplete once, signs nothing after the object landed, and abort keeps a completed object', async () => {
    let runs = 0
    const t = testValet({ onComplete: async () => ({ run: ++runs }) })
    const up = (await t.create(size, { md5 })).body
    land(t, up)
    const sign = () => t.call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts: [{ partNumber: 1, size, md5 }] })
    expect((await sign()).body.error.code).toBe('upload_not_found')
    const complete = () => t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts: [{ partNumber: 1, etag: hex }] })
    const [a, b] = await Promise.all([complete(), complete()])
    expect(a.body.result).toEqual({ run: 1 })
    expect(b.body.result).toEqual({ run: 1 })
    expect((await t.call('DELETE', `/uploads/${up.uploadId}`, undefined, { 'valet-token': up.token })).status).toBe(204)
    expect(t.objects.has(up.key)).toBe(true)
    expect(runs).toBe(1)
  })

  it('abort removes a landed object nobody completed (with onComplete), and keeps it without', async () => {
    const withHook = testValet({ onComplete: async () => undefined })
    const a = (await withHook.create(size, { md5 })).body
    land(withHook, a)
    expect((await withHook.call('DELETE', `/uploads/${a.uploadId}`, undefined, { 'valet-token': a.token })).status).toBe(204)
    expect(withHook.objects.has(a.key)).toBe(false)
    const without = testValet()
    const b = (await without.create(size, { md5 })).body
    land(without, b)
    await without.call('DELETE', `/uploads/${b.uploadId}`, undefined, { 'valet-token': b.token })
    expect(without.objects.has(b.key)).toBe(true)
  })

  it('re-signs the same PUT only: that part, that MD5', async () => {
    const t = testValet()
    const up = (await t.create(size, { md5 })).body
    const sign = (parts: unknown) => t.call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts })
    const again = await sign([{ partNumber: 1, size, md5 }])
    expect(again.status).toBe(200)
    expect(again.body.parts[0].headers['Content-MD5']).toBe(md5)
    const other = createHash('md5').update('x').digest('base64')
    expect((await sign([{ partNumber: 1, size, md5: other }])).body.error.code).toBe('invalid_part')
    expect((await sign([{ partNumber: 1, size: size + 1, md5 }])).body.error.code).toBe('invalid_part')
  })

  it('keeps policy: type, size and metadata limits apply before any key is signed', async () => {
    const t = testValet({ maxFileSize: 4, allowedTypes: ['video/*'] })
    expect((await t.create(size, { md5 })).body.error.code).toBe('file_too_large')
    expect((await t.create(3, { md5, type: 'text/html' })).body.error.code).toBe('type_not_allowed')
    expect(t.calls).toEqual([])
  })
})
