import { describe, expect, it } from 'vitest'
import { MiB, ValetError, type SignedPart } from '@valet/protocol'
import { createValet } from './create-valet.js'
import { memoryStorage } from './testing/memory-storage.js'
import { TEST_MD5, TEST_SECRET, testValet } from './testing/test-valet.js'

const secret = TEST_SECRET
const md5 = TEST_MD5
const post = (url: string, body: unknown) => new Request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
const fakeStorage = memoryStorage
const setup = testValet

describe('createValet options', () => {
  // What a JavaScript caller can pass: anything.
  const fromJavaScript = createValet as (options: unknown) => unknown
  it.each<[Record<string, unknown>, string, RegExp]>([
    [{ secret: 'short' }, 'secret', /`secret` must be at least 32 bytes, got 5$/],
    [{ authorize: undefined }, 'authorize', /`authorize` must be a function returning the principal or null, got undefined$/],
    [{ keyTtl: 0 }, 'keyTtl', /`keyTtl` must be an integer from 1 to 604800 \(seconds; 7 days is the SigV4 limit\), got 0$/],
    [{ keyTtl: 604_801 }, 'keyTtl', /`keyTtl` must be an integer from 1 to 604800/],
    [{ keyTtl: 60, tokenTtl: 30 }, 'tokenTtl', /`tokenTtl` must be at least keyTtl \(60 s\), got 30$/],
    [{ keyTtl: 100_000 }, 'tokenTtl', /`tokenTtl` must be at least keyTtl \(100000 s\), got 86400$/],
    [{ allowedTypes: ['png'] }, 'allowedTypes[0]', /`allowedTypes\[0\]` must be a MIME type such as "image\/\*"/],
    [{ allowedTypes: 'image/*' }, 'allowedTypes', /`allowedTypes` must be an array of strings/],
    [{ allowedOrigins: ['https://app.example/'] }, 'allowedOrigins[0]', /must be an origin exactly as browsers send it/],
    [{ maxFileSize: -1 }, 'maxFileSize', /`maxFileSize` must be an integer from 1 to \d+ \(bytes; the memory maximum\), got -1$/],
    [{ maxOpenUploads: 2 ** 53 }, 'maxOpenUploads', /`maxOpenUploads` must be an integer from 1 to Infinity/],
    [{ partSize: 1.5 }, 'partSize', /`partSize` must be an integer of at least 1, got 1.5$/],
    [{ activeContent: 'download' }, 'activeContent', /`activeContent` must be 'attachment' or 'inline', got "download"$/],
    [{ rateLimit: 5 }, 'rateLimit', /`rateLimit` must be a function such as memoryRateLimit\(...\), got 5$/],
    [{ storage: {} }, 'storage', /`storage` must be a storage provider such as s3\(...\)/],
  ])('names the bad option %#', (bad, option, message) => {
    const { storage } = fakeStorage()
    const call = () => fromJavaScript({ storage, secret, authorize: () => ({ id: 'a' }), ...bad })
    expect(call).toThrow(message)
    expect(call).toThrow(expect.objectContaining({ code: 'invalid_option', message: expect.stringMatching(/^createValet: option /), context: { option, owner: 'createValet' } }))
  })

  it('keeps Infinity for maxOpenUploads (no cap)', () => {
    const { storage } = fakeStorage()
    expect(() => createValet({ storage, secret, authorize: () => ({ id: 'a' }), maxOpenUploads: Infinity })).not.toThrow()
  })
})

describe('create', () => {
  it('plans parts and returns a token under any base path', async () => {
    const { create } = setup()
    const res = await create(21 * MiB)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ uploadId: 'up-1', partSize: 8 * MiB, partCount: 3 })
    expect(res.body.key).toMatch(/^alice\/[0-9a-f-]{36}\/clip\.mp4$/)
  })

  it('sizes parts to the file unless the partSize option or the client says otherwise', async () => {
    const plan = async (extra: Record<string, unknown>, size: number, partSize?: number) => {
      const res = await setup(extra).create(size, partSize === undefined ? {} : { partSize })
      expect(res.status).toBe(201)
      return [res.body.partSize, res.body.partCount]
    }
    expect(await plan({}, 100 * MiB)).toEqual([8 * MiB, 13])
    expect(await plan({}, 512 * MiB)).toEqual([32 * MiB, 16])
    expect(await plan({}, 3 * 1024 * MiB)).toEqual([64 * MiB, 48])
    // An explicit server option wins, and a client's hint wins over both.
    expect(await plan({ partSize: 8 * MiB }, 512 * MiB)).toEqual([8 * MiB, 64])
    expect(await plan({}, 512 * MiB, 16 * MiB)).toEqual([16 * MiB, 32])
    expect(await plan({ partSize: 8 * MiB }, 512 * MiB, 5 * MiB)).toEqual([5 * MiB, 103])
  })

  it.each([
    ['no credentials', { headers: { 'x-user': '' } }, 401, 'unauthorized'],
    ['malformed JSON', { raw: '{"name":' }, 400, 'bad_request'],
    ['oversized JSON', { raw: JSON.stringify({ name: 'a', size: 1, pad: 'x'.repeat(1024 * 1024) }) }, 413, 'payload_too_large'],
    ['zero size', { body: { size: 0 } }, 400, 'bad_request'],
    ['negative size', { body: { size: -5 } }, 400, 'bad_request'],
    ['fractional size', { body: { size: 1.5 } }, 400, 'bad_request'],
    ['too large', { body: { size: 11 * MiB } }, 413, 'file_too_large'],
    ['disallowed type', { body: { type: 'application/x-msdownload' } }, 415, 'type_not_allowed'],
    ['control characters in name', { body: { name: 'a\u0000b' } }, 400, 'bad_request'],
    ['bad metadata key', { body: { metadata: { 'X-Bad Key': 'v' } } }, 400, 'bad_request'],
  ])('refuses %s', async (_label, input: { headers?: Record<string, string>; raw?: string; body?: object }, status, code) => {
    const { call } = setup({ maxFileSize: 10 * MiB, allowedTypes: ['video/*', 'image/png'] })
    const body = input.raw ?? { name: 'clip.mp4', size: 1 * MiB, type: 'video/mp4', ...input.body }
    const res = await call('POST', '/uploads', body, input.headers)
    expect(res.status).toBe(status)
    expect(res.body.error.code).toBe(code)
    expect(typeof res.body.error.message).toBe('string')
  })

  it('keeps path traversal inside the principal prefix', async () => {
    const { create } = setup()
    const res = await create(MiB, { name: '../../etc/passwd' })
    expect(res.body.key).toMatch(/^alice\/[0-9a-f-]{36}\/passwd$/)
    const res2 = await create(MiB, { name: '..' })
    expect(res2.body.key).toMatch(/^alice\/[0-9a-f-]{36}\/file$/)
  })

  it('answers 404 and 405 for unknown routes and methods', async () => {
    const { call } = setup()
    expect((await call('GET', '/nope')).status).toBe(404)
    const res = await call('GET', '/uploads')
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
  })
})

describe('create with a requestId (idempotent)', () => {
  const requestId = 'rq_0123456789abcdefXYZ-'
  const uuidV8 = /^alice\/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\/clip\.mp4$/

  it('answers the same create again with the same upload and key, and a token for it', async () => {
    const { create, calls, call } = setup()
    const first = await create(20 * MiB, { requestId })
    const again = await create(20 * MiB, { requestId })
    expect([first.status, again.status]).toEqual([201, 201])
    expect(first.body.key).toMatch(uuidV8)
    expect(again.body).toMatchObject({ uploadId: first.body.uploadId, key: first.body.key, partSize: first.body.partSize, partCount: first.body.partCount })
    expect(calls.filter((c) => c === 'create')).toHaveLength(1)
    const listed = await call('GET', `/uploads/${again.body.uploadId}/parts`, undefined, { 'valet-token': again.body.token })
    expect(listed.status).toBe(200)
  })

  it('gives another principal, or another file, another key (the id is an HMAC of both)', async () => {
    const { create, calls } = setup()
    const alice = await create(20 * MiB, { requestId })
    const bob = await create(20 * MiB, { requestId }, { 'x-user': 'bob' })
    expect(bob.body.key).toMatch(/^bob\//)
    expect(bob.body.key.split('/')[1]).not.toBe(alice.body.key.split('/')[1])
    expect(bob.body.uploadId).not.toBe(alice.body.uploadId)
    const others = [
      await create(20 * MiB + 1, { requestId }),
      await create(20 * MiB, { requestId, name: 'other.mp4' }),
      await create(20 * MiB, { requestId, type: 'video/webm' }),
      await create(20 * MiB, { requestId, metadata: { album: 'x' } }),
      await create(20 * MiB, { requestId: `${requestId}2` }),
    ]
    const ids = new Set([alice, bob, ...others].map((r) => r.body.key.split('/')[1]))
    expect(ids.size).toBe(7)
    expect(calls.filter((c) => c === 'create')).toHaveLength(7)
  })

  it('keeps the oldest of several open uploads at the key and aborts the rest', async () => {
    const { create, open, openIds, calls } = setup()
    const first = await create(20 * MiB, { requestId })
    const key = first.body.key as string
    open('up-older', key, new Date(Date.now() - 60_000))
    open('up-newer', key, new Date(Date.now() + 60_000))
    const again = await create(20 * MiB, { requestId })
    expect(again.body.uploadId).toBe('up-older')
    expect(openIds()).toEqual(['up-older'])
    expect(calls.filter((c) => c === 'abort')).toHaveLength(2)
  })

  it('settles on the older upload when an earlier attempt created one while this one did', async () => {
    const { storage, open, openIds } = setup()
    const find = storage.findUploads!.bind(storage)
    let finds = 0
    storage.findUploads = async (input) => {
      // Between this create's check and its own storage call, the first attempt's upload lands.
      if (++finds === 2) open('up-first', input.key, new Date(0))
      return find(input)
    }
    const valet = createValet({ storage, secret, authorize: () => ({ id: 'alice' }), onError: () => {} })
    const res = await valet.fetch(post('http://app.test/uploads', { name: 'a.bin', size: MiB, requestId }))
    expect(((await res.json()) as { uploadId: string }).uploadId).toBe('up-first')
    expect(openIds()).toEqual(['up-first']) // ours (up-1) aborted
  })

  it('never looks for uploads at a custom key that ignores uniqueId, and hands custom keys a stable uniqueId', async () => {
    const seen: string[] = []
    const shared = setup({ objectKey: ({ file }: { file: { name: string } }) => `shared/${file.name}` })
    const a = await shared.create(MiB, { requestId })
    const b = await shared.create(MiB, { requestId }, { 'x-user': 'bob' })
    expect(b.body.key).toBe(a.body.key)
    expect(b.body.uploadId, 'bob never gets alice\'s upload').not.toBe(a.body.uploadId)
    expect(shared.calls).not.toContain('find')

    const custom = setup({ objectKey: ({ uniqueId }: { uniqueId: string }) => (seen.push(uniqueId), `files/${uniqueId}`) })
    const c = await custom.create(MiB, { requestId })
    const d = await custom.create(MiB, { requestId })
    expect(d.body.uploadId).toBe(c.body.uploadId)
    await custom.create(MiB)
    expect(seen[0]).toBe(seen[1])
    expect(seen[2]).not.toBe(seen[0])
  })

  it('accepts requestId on a provider without findUploads (Azure: create stores nothing) and keeps the key stable', async () => {
    const fake = memoryStorage({ findUploads: false })
    const valet = createValet({ storage: fake.storage, secret, authorize: () => ({ id: 'alice' }), onError: () => {} })
    const make = async () => (await valet.fetch(post('http://app.test/uploads', { name: 'a.bin', size: MiB, requestId }))).json() as Promise<{ key: string; uploadId: string }>
    const [one, two] = [await make(), await make()]
    expect(two.key).toBe(one.key)
    expect(fake.calls.filter((c) => c === 'create')).toHaveLength(2)
  })

  it('still creates when storage refuses to list uploads (403), and reports it through onError', async () => {
    const fake = fakeStorage()
    fake.storage.findUploads = async () => {
      throw new ValetError('storage_error', 'S3 ListMultipartUploads failed: AccessDenied (HTTP 403)', { context: { status: 403 } })
    }
    const errors: unknown[] = []
    const valet = createValet({ storage: fake.storage, secret, authorize: () => ({ id: 'alice' }), onError: (e) => errors.push(e) })
    const res = await valet.fetch(post('http://app.test/uploads', { name: 'a.bin', size: MiB, requestId }))
    expect(res.status).toBe(201)
    expect(fake.calls.filter((c) => c === 'create')).toHaveLength(1)
    expect(errors).toHaveLength(1)
    expect(String((errors[0] as Error).message)).toMatch(/s3:ListBucketMultipartUploads/)
    // Other storage failures still fail the create: nothing is hidden but the missing permission.
    fake.storage.findUploads = async () => {
      throw new ValetError('storage_error', 'S3 ListMultipartUploads failed: HTTP 500', { context: { status: 500 } })
    }
    const failed = await valet.fetch(post('http://app.test/uploads', { name: 'a.bin', size: MiB, requestId }))
    expect(failed.status).toBe(502)
  })

  it('refuses a malformed requestId', async () => {
    const { create } = setup()
    const res = await create(MiB, { requestId: 'not/valid/at/all/!' })
    expect([res.status, res.body.error.code]).toEqual([400, 'bad_request'])
    expect(res.body.error.message).toMatch(/requestId/)
  })
})

describe('sign, list, complete, abort', () => {
  async function started(extra: Record<string, unknown> = {}) {
    const s = setup(extra)
    const { body } = await s.create(20 * MiB)
    return { ...s, up: body as { uploadId: string; token: string; partSize: number; partCount: number } }
  }

  it('signs a batch of parts bound to the plan', async () => {
    const { call, up } = await started()
    const res = await call('POST', `/uploads/${up.uploadId}/parts`, {
      token: up.token,
      parts: [{ partNumber: 1, size: 8 * MiB, md5 }, { partNumber: 3, size: 4 * MiB, md5 }],
    })
    expect(res.status).toBe(200)
    expect(res.body.parts.map((p: SignedPart) => p.partNumber)).toEqual([1, 3])
    expect(Math.abs(Date.parse(res.body.serverTime) - Date.now())).toBeLessThan(5000)
  })

  it.each([
    ['part 0', { partNumber: 0, size: 8 * MiB }, 400, 'bad_request'],
    ['a negative part', { partNumber: -1, size: 8 * MiB }, 400, 'bad_request'],
    ['a fractional part', { partNumber: 1.5, size: 8 * MiB }, 400, 'bad_request'],
    ['a part number as a string', { partNumber: '1', size: 8 * MiB }, 400, 'bad_request'],
    ['part beyond the plan', { partNumber: 4, size: 4 * MiB }, 400, 'invalid_part'],
    ['size off the plan', { partNumber: 1, size: 5 * MiB }, 400, 'invalid_part'],
    ['last part with a full size', { partNumber: 3, size: 8 * MiB }, 400, 'invalid_part'],
  ])('refuses %s', async (_l, part, status, code) => {
    const { call, up } = await started()
    const res = await call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts: [{ md5, ...part }] })
    expect([res.status, res.body.error.code]).toEqual([status, code])
  })

  it('refuses tampered, foreign and other-principal tokens', async () => {
    const { call, up, create } = await started()
    const parts = [{ partNumber: 1, size: 8 * MiB, md5 }]
    const [head, claims, mac] = up.token.split('.')
    const json = JSON.parse(Buffer.from(claims!, 'base64url').toString())
    json.partCount = 9999
    const forged = `${head}.${Buffer.from(JSON.stringify(json)).toString('base64url')}.${mac}`
    expect((await call('POST', `/uploads/${up.uploadId}/parts`, { token: forged, parts })).body.error.code).toBe('token_invalid')
    const other = (await create(20 * MiB)).body
    const foreign = await call('POST', `/uploads/${up.uploadId}/parts`, { token: other.token, parts })
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'token_invalid'])
    const mallory = await call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts }, { 'x-user': 'mallory' })
    expect([mallory.status, mallory.body.error.code]).toEqual([403, 'forbidden'])
    const missing = await call('GET', `/uploads/${up.uploadId}/parts`)
    expect(missing.body.error.code).toBe('token_invalid')
  })

  it('refuses an expired token', async () => {
    const { call, up } = await started({ keyTtl: 1, tokenTtl: 1 })
    await new Promise((r) => setTimeout(r, 1100))
    const res = await call('GET', `/uploads/${up.uploadId}/parts`, undefined, { 'valet-token': up.token })
    expect([res.status, res.body.error.code]).toEqual([401, 'token_expired'])
  })

  it('completes only when every planned part is stored with its size and ETag', async () => {
    const { call, up, put, calls } = await started()
    const complete = (parts: { partNumber: number; etag: string }[]) => call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts })
    const all = [1, 2, 3].map((n) => ({ partNumber: n, etag: `"e${n}"` }))
    put(up.uploadId, { partNumber: 1, size: 8 * MiB, etag: '"e1"' })
    put(up.uploadId, { partNumber: 2, size: 8 * MiB, etag: '"e2"' })
    expect((await complete(all.slice(0, 2))).body.error.code).toBe('part_mismatch') // missing from request
    expect((await complete(all)).body.error.message).toMatch(/part 3 was never uploaded/)
    put(up.uploadId, { partNumber: 3, size: 4 * MiB, etag: '"other"' })
    expect((await complete(all)).body.error.code).toBe('part_mismatch') // wrong ETag
    put(up.uploadId, { partNumber: 3, size: 3 * MiB, etag: '"e3"' })
    expect((await complete(all)).body.error.code).toBe('size_mismatch')
    expect(calls).not.toContain('complete')
    put(up.uploadId, { partNumber: 3, size: 4 * MiB, etag: 'E3' })
    const ok = await complete(all)
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ size: 20 * MiB, etag: '"memory-3"' })
  })

  it('returns what onComplete returns, and its typed error', async () => {
    const { call, up, put } = await started({ onComplete: ({ key, size }: { key: string; size: number }) => ({ id: 42, key, size }) })
    for (const [n, size] of [[1, 8], [2, 8], [3, 4]] as const) put(up.uploadId, { partNumber: n, size: size * MiB, etag: `"e${n}"` })
    const res = await call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts: [1, 2, 3].map((n) => ({ partNumber: n, etag: `"e${n}"` })) })
    expect(res.body.result).toMatchObject({ id: 42, size: 20 * MiB })
  })

  it('aborts with DELETE and the token header', async () => {
    const { call, up, calls } = await started()
    const res = await call('DELETE', `/uploads/${up.uploadId}`, undefined, { 'valet-token': up.token })
    expect(res.status).toBe(204)
    expect(calls).toContain('abort')
  })
})
