import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { principalPrefix } from './object-key.js'
import { testValet } from './testing/test-valet.js'

const hexMd5 = (text: string) => createHash('md5').update(text).digest('hex')
const b64Md5 = (text: string) => createHash('md5').update(text).digest('base64')
const ownPrefix = ({ principal, key }: { principal: { id: string }; key: string }) => key.startsWith(`${principalPrefix(principal.id)}/`)

/** A multipart object of 12 MiB in 5 MiB parts whose etags are MD5s, as S3 answers. */
async function uploaded(t: ReturnType<typeof testValet>, size = 12 * MiB) {
  const up = (await t.create(size, { partSize: 5 * MiB })).body
  const parts = Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, etag: `"${hexMd5(`part ${i + 1}`)}"` }))
  for (const p of parts) t.put(up.uploadId, { ...p, size: p.partNumber < up.partCount ? up.partSize : size - up.partSize * (up.partCount - 1) })
  const done = await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts })
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  return { ...up, etag: done.body.etag as string }
}

describe('POST /downloads', () => {
  it('is off without canRead: 404 saying so', async () => {
    const t = testValet()
    const res = await t.call('POST', '/downloads', { key: 'alice/x/clip.mp4' })
    expect(res.status).toBe(404)
    expect(res.body.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('canRead') })
  })

  it('canRead must be a function: the option kit names it', () => {
    expect(() => testValet({ canRead: true as never })).toThrow(expect.objectContaining({ code: 'invalid_option', context: { option: 'canRead', owner: 'createValet' } }))
  })

  it('is off on a provider without signRead', async () => {
    const res = await testValet({ canRead: () => true }, { signRead: false }).call('POST', '/downloads', { key: 'alice/x/clip.mp4' })
    expect(res.status).toBe(404)
  })

  it('canRead false: 403 before any storage call', async () => {
    const asked: unknown[] = []
    const t = testValet({ canRead: (input) => (asked.push(input), false) })
    const res = await t.call('POST', '/downloads', { key: 'bob/x/clip.mp4' })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('forbidden')
    expect(t.calls).toEqual([])
    expect(asked).toEqual([expect.objectContaining({ principal: { id: 'alice' }, key: 'bob/x/clip.mp4', request: expect.any(Request) })])
  })

  it('never reads keys under .valet/, whatever canRead says, nor keys a URL would resolve elsewhere', async () => {
    const t = testValet({ canRead: () => true })
    // Azure reads `\` as `/`: `.valet\receipts\x.json` is Valet's receipt there.
    for (const key of ['.valet/receipts/x.json', '.valet/manifests/y.json', '.valet', '.valet\\receipts\\x.json', '.valet\\']) {
      const res = await t.call('POST', '/downloads', { key })
      expect(res.status, key).toBe(403)
    }
    for (const key of ['a/../.valet/receipts/x.json', './a', '/a', 'a\\..\\.valet\\x', '\\a']) expect((await t.call('POST', '/downloads', { key })).status, key).toBe(400)
    expect(t.calls).toEqual([])
  })

  it('a missing object: 404 object_not_found', async () => {
    const t = testValet({ canRead: () => true })
    const res = await t.call('POST', '/downloads', { key: 'alice/none/clip.mp4' })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('object_not_found')
  })

  it('a multipart upload: size, etag, type, a token and the part MD5s recorded at complete', async () => {
    const t = testValet({ canRead: ownPrefix })
    const up = await uploaded(t)
    const res = await t.call('POST', '/downloads', { key: up.key })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toMatchObject({ key: up.key, size: 12 * MiB, etag: up.etag, type: 'video/mp4', token: expect.stringMatching(/^d1\./) })
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now() + 23 * 3600_000)
    expect(res.body.integrity).toEqual({
      kind: 'parts',
      partSize: 5 * MiB,
      parts: [
        { partNumber: 1, size: 5 * MiB, md5: b64Md5('part 1') },
        { partNumber: 2, size: 5 * MiB, md5: b64Md5('part 2') },
        { partNumber: 3, size: 2 * MiB, md5: b64Md5('part 3') },
      ],
    })
    // Another principal's object under the one-liner: refused.
    expect((await t.call('POST', '/downloads', { key: up.key }, { 'x-user': 'bob' })).status).toBe(403)
  })

  it('completing twice keeps one manifest; a manifest for another etag is ignored', async () => {
    const t = testValet({ canRead: () => true })
    const up = await uploaded(t)
    const parts = [1, 2, 3].map((n) => ({ partNumber: n, etag: `"${hexMd5(`part ${n}`)}"` }))
    expect((await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts })).status).toBe(200)
    const manifests = [...t.records.keys()].filter((k) => k.startsWith('manifests/'))
    expect(manifests).toHaveLength(1)
    const stored = JSON.parse(t.records.get(manifests[0]!)!)
    expect(stored).toEqual({ v: 1, key: up.key, etag: up.etag, partSize: 5 * MiB, parts: [1, 2, 3].map((n) => b64Md5(`part ${n}`)) })
    t.records.set(manifests[0]!, JSON.stringify({ ...stored, etag: '"another"' }))
    expect((await t.call('POST', '/downloads', { key: up.key })).body.integrity).toEqual({ kind: 'none' })
  })

  it('part etags that are not MD5s: no manifest, integrity none', async () => {
    const t = testValet({ canRead: () => true })
    const up = (await t.create(12 * MiB, { partSize: 5 * MiB })).body
    const parts = t.putAll(up, 12 * MiB)
    expect((await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts })).status).toBe(200)
    expect([...t.records.keys()].filter((k) => k.startsWith('manifests/'))).toEqual([])
    expect((await t.call('POST', '/downloads', { key: up.key })).body.integrity).toEqual({ kind: 'none' })
  })

  it('a single-PUT object: the MD5 storage recorded', async () => {
    const t = testValet({ canRead: () => true })
    const md5 = b64Md5('hello')
    const up = (await t.create(5, { md5 })).body
    t.putObject(up.key, up.uploadId, { size: 5, md5, etag: `"${hexMd5('hello')}"` })
    expect((await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts: [{ partNumber: 1, etag: 'x' }] })).status).toBe(200)
    const res = await t.call('POST', '/downloads', { key: up.key })
    expect(res.body).toMatchObject({ size: 5, integrity: { kind: 'md5', md5 } })
  })

  it('routes: POST only, under any base path', async () => {
    const t = testValet({ canRead: () => true })
    const get = await t.call('GET', '/downloads')
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST'])
    expect((await t.call('PUT', '/downloads/ranges', {})).status).toBe(405)
    const res = await t.valet.fetch(new Request('http://app.test/v2/files/downloads/', { method: 'POST', headers: { 'x-user': 'alice', 'content-type': 'application/json' }, body: '{"key":"alice/x/y"}' }))
    expect((await res.json()).error.code).toBe('object_not_found')
  })

  it('is rate-limited as `download`', async () => {
    const t = testValet({ canRead: () => true, rateLimit: ({ operation }) => (operation === 'download' ? 3 : undefined) })
    const res = await t.call('POST', '/downloads', { key: 'alice/x/y' })
    expect(res.status).toBe(429)
    expect(t.calls).toEqual([])
  })
})
