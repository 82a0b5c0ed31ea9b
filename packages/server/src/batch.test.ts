import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { testValet } from './testing/test-valet.js'

const md5Of = (s: string) => createHash('md5').update(s).digest('base64')
const hexOf = (s: string) => createHash('md5').update(s).digest('hex')
const file = (name: string, text: string, more: Record<string, unknown> = {}) => ({ name, size: text.length, type: 'text/plain', md5: md5Of(text), ...more })

describe('batch create', () => {
  it('answers each item as its own route would; one bad item fails alone', async () => {
    const t = testValet({ maxFileSize: 10 * MiB, allowedTypes: ['text/*', 'video/*'] })
    const res = await t.call('POST', '/uploads/batch', {
      uploads: [
        file('a.txt', 'aaa'),
        file('b.exe', 'bbb', { type: 'application/x-msdownload' }),
        { name: 'big.mp4', size: 11 * MiB, type: 'video/mp4' },
        { name: 'broken' },
        { name: 'multi.mp4', size: 9 * MiB, type: 'video/mp4' },
      ],
    })
    expect(res.status).toBe(200)
    expect(res.body.serverTime).toEqual(expect.any(String))
    const [a, b, big, broken, multi] = res.body.uploads
    expect(a).toMatchObject({ status: 201, body: { mode: 'single', parts: [{ partNumber: 1 }] } })
    expect(b).toEqual({ status: 415, body: { error: { code: 'type_not_allowed', message: expect.any(String) } } })
    expect(big.body.error.code).toBe('file_too_large')
    expect(broken).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } })
    expect(multi).toMatchObject({ status: 201, body: { partCount: 2 } })
  })

  it('counts open uploads once per batch, and each multipart create in it', async () => {
    const t = testValet({ maxOpenUploads: 2 })
    const big = { name: 'v.mp4', size: 9 * MiB, type: 'video/mp4' }
    const res = await t.call('POST', '/uploads/batch', { uploads: [big, big, big, file('s.txt', 'small')] })
    expect(res.body.uploads.map((u: { status: number }) => u.status).sort()).toEqual([201, 201, 201, 429])
    expect(t.calls.filter((c) => c === 'count')).toHaveLength(1)
  })

  it('asks rateLimit per item, and refuses malformed batches whole', async () => {
    let asked = 0
    const t = testValet({ rateLimit: ({ operation }) => (operation === 'create' && ++asked > 2 ? 5 : undefined) })
    const res = await t.call('POST', '/uploads/batch', { uploads: [file('1', 'x'), file('2', 'y'), file('3', 'z')] })
    expect(res.body.uploads.map((u: { status: number }) => u.status)).toEqual([201, 201, 429])
    expect((await t.call('POST', '/uploads/batch', { uploads: [] })).status).toBe(400)
    expect((await t.call('POST', '/uploads/batch', { uploads: Array.from({ length: 101 }, () => file('f', 'x')) })).status).toBe(400)
    expect((await t.call('POST', '/uploads/batch', { uploads: [file('f', 'x')] }, { 'x-user': '' })).status).toBe(401)
    expect((await t.call('DELETE', '/uploads/batch')).status).toBe(405)
  })
})

describe('batch complete', () => {
  it('completes each item with its own token; a missing object or a foreign token fails alone', async () => {
    const t = testValet()
    const created = (await t.call('POST', '/uploads/batch', { uploads: [file('a', 'aaa'), file('b', 'bbb'), file('c', 'ccc')] })).body.uploads.map(
      (u: { body: { key: string; uploadId: string; token: string } }) => u.body,
    )
    const [a, b, c] = created
    t.putObject(a.key, a.uploadId, { size: 3, md5: md5Of('aaa'), etag: `"${hexOf('aaa')}"` })
    t.putObject(c.key, c.uploadId, { size: 3, md5: md5Of('ccc'), etag: `"${hexOf('ccc')}"` })
    const other = (await t.create(3, { md5: md5Of('ddd') }, { 'x-user': 'mallory' })).body
    const res = await t.call('POST', '/uploads/batch/complete', {
      uploads: [
        { uploadId: a.uploadId, token: a.token, parts: [{ partNumber: 1, etag: hexOf('aaa') }] },
        { uploadId: b.uploadId, token: b.token, parts: [{ partNumber: 1, etag: hexOf('bbb') }] },
        { uploadId: c.uploadId, token: other.token, parts: [{ partNumber: 1, etag: hexOf('ccc') }] },
        { uploadId: c.uploadId, token: c.token, parts: [{ partNumber: 1, etag: hexOf('ccc') }] },
      ],
    })
    expect(res.status).toBe(200)
    const statuses = res.body.uploads.map((u: { status: number; body: { error?: { code: string } } }) => [u.status, u.body.error?.code])
    expect(statuses).toEqual([
      [200, undefined],
      [409, 'part_mismatch'],
      [403, 'token_invalid'],
      [200, undefined],
    ])
    expect(res.body.uploads[0].body).toMatchObject({ key: a.key, size: 3 })
  })
})
