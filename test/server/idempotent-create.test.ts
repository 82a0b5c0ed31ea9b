/**
 * `POST /uploads` with a `requestId` on real storage: the same create sent again (its first
 * answer lost) gets the same upload back instead of leaving one nobody can name. Swift s3api
 * lists multipart uploads (ListMultipartUploads); Azurite's create stores nothing, so there
 * the key is merely stable.
 */
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MiB, type SignedPart } from '@valet/protocol'
import { generate, keyEndpoint, md5base64 } from '../support/key-endpoint.js'
import { azuriteCase, swiftCase } from '../support/storages.js'

type Created = { uploadId: string; key: string; token: string; partSize: number; partCount: number }
const requestId = () => randomUUID().replaceAll('-', '')

describe('idempotent create on Swift s3api', () => {
  const storage = swiftCase()
  const provider = storage.provider()
  const { call } = keyEndpoint(provider)
  const user = () => `idem-${randomUUID()}`
  const create = async (as: string, body: Record<string, unknown>): Promise<Created> => {
    const res = await call('POST', '/uploads', { name: 'clip (1)+é.mp4', size: 6 * MiB, type: 'video/mp4', partSize: 5 * MiB, ...body }, { 'x-user': as })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body
  }

  it('the same create twice: the same upload id and key, one open multipart upload, and both tokens work', async () => {
    const alice = user()
    const rid = requestId()
    const first = await create(alice, { requestId: rid })
    expect(first.key).toMatch(new RegExp(`^${alice}/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/clip \\(1\\)\\+é\\.mp4$`))

    // A part goes in with the first answer's token (the process that got it, then died).
    const part = generate(5 * MiB, 5)
    const id = encodeURIComponent(first.uploadId)
    const [key] = (await call('POST', `/uploads/${id}/parts`, { token: first.token, parts: [{ partNumber: 1, size: part.length, md5: md5base64(part) }] }, { 'x-user': alice })).body.parts as SignedPart[]
    expect((await fetch(key!.url, { method: 'PUT', headers: key!.headers, body: part as Uint8Array<ArrayBuffer> })).status).toBe(200)

    const again = await create(alice, { requestId: rid })
    expect([again.uploadId, again.key, again.partSize, again.partCount]).toEqual([first.uploadId, first.key, first.partSize, first.partCount])
    expect(await storage.openUploads(`${alice}/`)).toBe(1)
    const listed = await call('GET', `/uploads/${id}/parts`, undefined, { 'valet-token': again.token, 'x-user': alice })
    expect(listed.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1])
    expect((await call('DELETE', `/uploads/${id}`, undefined, { 'valet-token': again.token, 'x-user': alice })).status).toBe(204)
    expect(await storage.openUploads(`${alice}/`)).toBe(0)
  })

  it('another principal with the same requestId and file gets another key and upload; another file too', async () => {
    const [alice, bob] = [user(), user()]
    const rid = requestId()
    const a = await create(alice, { requestId: rid })
    const b = await create(bob, { requestId: rid })
    expect(b.key.startsWith(`${bob}/`)).toBe(true)
    expect(b.key.split('/')[1]).not.toBe(a.key.split('/')[1])
    expect(b.uploadId).not.toBe(a.uploadId)
    const other = await create(alice, { requestId: rid, name: 'other.mp4' })
    const bigger = await create(alice, { requestId: rid, size: 6 * MiB + 1 })
    expect(new Set([a.key, other.key, bigger.key].map((k) => k.split('/')[1])).size).toBe(3)
    expect(await storage.openUploads(`${alice}/`)).toBe(3)
    expect(await storage.openUploads(`${bob}/`)).toBe(1)
    for (const up of [a, b, other, bigger]) await provider.abort({ uploadId: up.uploadId, key: up.key, owner: up.key.split('/')[0]! })
  })

  it('keeps one upload when several are open at the key (concurrent attempts), aborting the rest', async () => {
    const alice = user()
    const rid = requestId()
    // Five attempts of one create at once: each may create before any sees another.
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(alice, { requestId: rid })))
    const key = answers[0]!.key
    expect(answers.every((a) => a.key === key)).toBe(true)
    expect(await storage.openUploads(`${alice}/`)).toBe(1)
    const last = await create(alice, { requestId: rid })
    const open = await provider.findUploads!({ key })
    expect(open.map((u) => u.uploadId)).toEqual([last.uploadId])
    await provider.abort({ uploadId: last.uploadId, key, owner: alice })
  })

  it('findUploads lists exactly the key (not longer keys it prefixes), with start times', async () => {
    const alice = user()
    const key = `${alice}/x/a (1)+b.bin`
    const ids = [(await provider.create({ key, owner: alice, uniqueId: randomUUID(), disposition: undefined, type: 'text/plain', metadata: {} })).uploadId, (await provider.create({ key, owner: alice, uniqueId: randomUUID(), disposition: undefined, type: 'text/plain', metadata: {} })).uploadId]
    const longer = (await provider.create({ key: `${key}.more`, owner: alice, uniqueId: randomUUID(), disposition: undefined, type: 'text/plain', metadata: {} })).uploadId
    const found = await provider.findUploads!({ key })
    expect(found.map((u) => u.uploadId).sort()).toEqual([...ids].sort())
    for (const u of found) expect(Math.abs(u.initiated.getTime() - Date.now())).toBeLessThan(120_000)
    for (const uploadId of ids) await provider.abort({ uploadId, key, owner: alice })
    await provider.abort({ uploadId: longer, key: `${key}.more`, owner: alice })
    expect(await provider.findUploads!({ key })).toEqual([])
  })
})

describe('idempotent create on Azurite', () => {
  it('accepts requestId and keeps the key stable; the create sent again opens nothing more', async () => {
    const storage = azuriteCase()
    const { call } = keyEndpoint(storage.provider())
    const alice = `idem-${randomUUID()}`
    const rid = requestId()
    const body = { name: 'a.bin', size: 6 * MiB, type: 'application/octet-stream', requestId: rid }
    const [one, two] = [await call('POST', '/uploads', body, { 'x-user': alice }), await call('POST', '/uploads', body, { 'x-user': alice })]
    expect([one.status, two.status]).toEqual([201, 201])
    expect(two.body.key).toBe(one.body.key)
    const bob = await call('POST', '/uploads', body, { 'x-user': `idem-${randomUUID()}` })
    expect(bob.body.key.split('/')[1]).not.toBe(one.body.key.split('/')[1])
    // One staging blob for the upload, however often its create is sent.
    expect(await storage.openUploads(`${alice}/`)).toBe(1)
  })
})
