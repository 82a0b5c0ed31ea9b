import { describe, expect, it } from 'vitest'
import { MiB, ValetError } from '@valet/protocol'
import { testValet } from './testing/test-valet.js'

describe('create: policy', () => {
  it('caps open uploads per principal, counted in storage, and frees a slot on abort', async () => {
    const t = testValet({ maxOpenUploads: 3 })
    const ups = [await t.create(MiB), await t.create(MiB), await t.create(MiB)]
    expect(ups.map((u) => u.status)).toEqual([201, 201, 201])
    const fourth = await t.create(MiB)
    expect([fourth.status, fourth.body.error.code]).toEqual([429, 'too_many_uploads'])
    expect(fourth.body.error.message).toMatch(/3 uploads are already open/)
    expect((await t.create(MiB, {}, { 'x-user': 'bob' })).status, 'another principal has its own count').toBe(201)
    await t.call('DELETE', `/uploads/${ups[0]!.body.uploadId}`, undefined, { 'valet-token': ups[0]!.body.token })
    expect((await t.create(MiB)).status).toBe(201)
  })

  it('creates when storage refuses to count (no list permission) and says so through onError', async () => {
    const errors: unknown[] = []
    const t = testValet({ maxOpenUploads: 1, onError: (e) => errors.push(e) })
    t.storage.countOpenUploads = async () => {
      throw new ValetError('storage_error', 'S3 ListMultipartUploads failed: AccessDenied (HTTP 403)', { context: { status: 403 } })
    }
    expect([(await t.create(MiB)).status, (await t.create(MiB)).status]).toEqual([201, 201])
    expect(String((errors[0] as Error).message)).toMatch(/maxOpenUploads is not enforced/)
  })

  it.each([
    ['a value over the provider limit', { note: 'x'.repeat(257) }, /metadata\.note is 257 bytes.*at most 256/],
    ['more keys than the provider stores', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])), /17 keys.*at most 16/],
    ['more bytes than the provider stores', Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, 'v'.repeat(220)])), /metadata is 1554 bytes.*at most 1536/],
    ['a key reserved for Valet', { valet_part_size: '1' }, /reserved/],
  ])('refuses metadata with %s (400, never a 502 from storage)', async (_label, metadata, message) => {
    const t = testValet()
    const res = await t.create(MiB, { metadata })
    expect([res.status, res.body.error.code]).toEqual([400, 'bad_request'])
    expect(res.body.error.message).toMatch(message)
    expect(t.calls).not.toContain('create')
  })

  it('keeps script-capable types out of wildcards and stores them as attachments', async () => {
    const t = testValet({ allowedTypes: ['image/*', 'text/html'] })
    for (const type of ['image/svg+xml', 'application/xhtml+xml', 'image/vnd.custom+xml']) {
      const res = await t.create(MiB, { type })
      expect([res.status, res.body.error.code], type).toEqual([415, 'type_not_allowed'])
    }
    expect((await t.create(MiB, { type: 'image/png' })).status).toBe(201)
    const html = await t.create(MiB, { type: 'text/html' })
    expect(html.status).toBe(201)
    expect(t.uploads.get(html.body.uploadId)!.disposition).toBe('attachment')
    expect(t.uploads.get((await t.create(MiB, { type: 'image/png' })).body.uploadId)!.disposition).toBeUndefined()
  })

  it("stores active content inline only when the app opts out with activeContent: 'inline'", async () => {
    const t = testValet({ activeContent: 'inline' })
    const res = await t.create(MiB, { type: 'text/html' })
    expect(t.uploads.get(res.body.uploadId)!.disposition).toBeUndefined()
  })

  it('gives distinct principals distinct key prefixes', async () => {
    // Ids travel percent-encoded here: HTTP would trim the space off `alice `.
    const t = testValet({ authorize: (req) => ({ id: decodeURIComponent(req.headers.get('x-user')!) }) })
    const prefixes = new Set<string>()
    for (const user of ['alice', 'alice.', 'alice ', '.alice', 'org/1', 'org\\1', 'org_1', 'ALICE']) {
      const res = await t.create(MiB, {}, { 'x-user': encodeURIComponent(user) })
      expect(res.status, user).toBe(201)
      prefixes.add(res.body.key.split('/')[0])
    }
    expect(prefixes.size).toBe(8)
  })
})

describe('requests: JSON only, CORS for listed origins', () => {
  it('refuses a POST that is not application/json before authorize runs (no CSRF by simple request)', async () => {
    let authorized = 0
    const t = testValet({ authorize: () => (authorized++, { id: 'alice' }) })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const res = await t.call('POST', '/uploads', JSON.stringify({ name: 'a', size: 1 }), { 'content-type': type })
      expect([res.status, res.body.error.code], type).toEqual([415, 'unsupported_media_type'])
    }
    expect(authorized).toBe(0)
    expect(t.calls).toEqual([])
    expect((await t.call('POST', '/uploads', { name: 'a', size: 1 }, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201)
  })

  it('answers preflights only for listed origins, and sets CORS headers only for them', async () => {
    const t = testValet({ allowedOrigins: ['https://app.example'] })
    const preflight = (origin?: string) =>
      t.valet.fetch(
        new Request('http://app.test/api/valet/uploads', {
          method: 'OPTIONS',
          headers: { ...(origin ? { origin } : {}), 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        }),
      )
    const ok = await preflight('https://app.example')
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization, content-type')
    for (const origin of ['https://evil.example', 'https://app.example.evil', 'null', undefined]) {
      const res = await preflight(origin)
      expect(res.status, String(origin)).toBe(403)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
    const listed = await t.call('POST', '/uploads', { name: 'a', size: 1 }, { origin: 'https://app.example' })
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const refused = await t.call('POST', '/uploads', { name: 'a', size: 0 }, { origin: 'https://app.example' })
    expect(refused.headers.get('access-control-allow-origin'), 'errors too, so the page can read them').toBe('https://app.example')
    const other = await t.call('POST', '/uploads', { name: 'a', size: 1 }, { origin: 'https://evil.example' })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect(other.headers.get('vary')).toMatch(/origin/)
  })

  it.each([['https://app.example/'], ['*'], ['https://*.example'], ['app.example']])('names a malformed allowedOrigins entry: %s', (origin) => {
    expect(() => testValet({ allowedOrigins: [origin] })).toThrow(/allowedOrigins/)
  })
})
