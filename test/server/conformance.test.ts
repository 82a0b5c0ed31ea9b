/**
 * The provider conformance suite: the same flows and attacks against real Swift s3api and real
 * Azurite, through the core handler (`valet.fetch`) and plain `fetch` PUTs to storage.
 */
import { describe, expect, it } from 'vitest'
import { MiB, type SignedPart } from '@valet/protocol'
import { generate, keyEndpoint, md5base64, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'

function put(part: SignedPart, body: Uint8Array, headers: Record<string, string> = {}, url = part.url) {
  return fetch(url, { method: 'PUT', headers: { ...part.headers, ...headers }, body: body as Uint8Array<ArrayBuffer> })
}

/** What the client keeps as a part's ETag: S3's `ETag`; Azure's Put Block has none, so the part's MD5. */
function partEtag(res: Response, bytes: Uint8Array): string {
  return res.headers.get('etag') ?? md5base64(bytes)
}

describe.each(storageCases.map((make) => [make().name, make] as const))('%s conformance', (_name, makeCase) => {
  const storage = makeCase()
  const setup = (options = {}) => keyEndpoint(storage.provider(), options)

  async function start(size: number, call: ReturnType<typeof setup>['call'], name = 'movie.mp4') {
    const res = await call('POST', '/uploads', { name, size, type: 'video/mp4', partSize: 5 * MiB, metadata: { album: 'summer' } })
    expect(res.status).toBe(201)
    return res.body as { uploadId: string; key: string; token: string; partSize: number; partCount: number }
  }

  async function sign(call: ReturnType<typeof setup>['call'], up: { uploadId: string; token: string }, parts: { partNumber: number; bytes: Uint8Array }[]) {
    const res = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, {
      token: up.token,
      parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.bytes.length, md5: md5base64(p.bytes) })),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.parts as SignedPart[]
  }

  const slice = (data: Uint8Array, partSize: number, n: number) => data.subarray((n - 1) * partSize, Math.min(n * partSize, data.length))

  it('create → sign → PUT → list → complete → read back the same bytes', async () => {
    const { call } = setup({ onComplete: ({ key, size }: { key: string; size: number }) => ({ saved: key, size }) })
    const data = generate(12 * MiB + 123, 7)
    const up = await start(data.length, call)
    expect([up.partSize, up.partCount]).toEqual([5 * MiB, 3])
    const parts = [1, 2, 3].map((n) => ({ partNumber: n, bytes: slice(data, up.partSize, n) }))
    const keys = await sign(call, up, parts)
    const etags = await Promise.all(
      keys.map(async (key, i) => {
        const res = await put(key, parts[i]!.bytes)
        expect(res.status, await res.clone().text()).toBeLessThan(300)
        return { partNumber: key.partNumber, etag: partEtag(res, parts[i]!.bytes) }
      }),
    )
    const listed = await call('GET', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, undefined, { 'valet-token': up.token })
    expect(listed.body.parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).toEqual([[1, 5 * MiB], [2, 5 * MiB], [3, 2 * MiB + 123]])

    const done = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/complete`, { token: up.token, parts: etags })
    expect(done.status, JSON.stringify(done.body)).toBe(200)
    expect(done.body).toMatchObject({ key: up.key, size: data.length, result: { saved: up.key, size: data.length } })
    const object = await storage.read(up.key)
    expect(object && sha256(object.bytes)).toBe(sha256(data))
    expect(object?.type).toBe('video/mp4')
    expect(object?.metadata.album).toBe('summer')
    expect(await storage.openUploads(up.key)).toBe(0)
  })

  it('storage refuses bytes that do not match the signed MD5', async () => {
    const { call } = setup()
    const data = generate(6 * MiB, 2)
    const up = await start(data.length, call)
    const [key] = await sign(call, up, [{ partNumber: 1, bytes: slice(data, up.partSize, 1) }])
    const flipped = slice(data, up.partSize, 1).slice()
    flipped[1000] = flipped[1000]! ^ 0xff
    expect((await put(key!, flipped)).status).toBe(400)
  })

  it('storage refuses a key used for another object, for GET, or after expiry', async () => {
    const { call } = setup({ keyTtl: 2 })
    const data = generate(6 * MiB, 3)
    const up = await start(data.length, call)
    const bytes = slice(data, up.partSize, 1)
    const [key] = await sign(call, up, [{ partNumber: 1, bytes }])
    // The last path segment names the object the key writes (S3: the object; Azure: its staging blob).
    const otherObject = key!.url.replace(/[^/?]+(?=\?)/, (name) => `other-${name}`)
    expect(otherObject).not.toBe(key!.url)
    expect((await put(key!, bytes, {}, otherObject)).status).toBe(403)
    expect((await fetch(key!.url, { method: 'GET' })).status).toBe(403)
    await new Promise((r) => setTimeout(r, 3000))
    expect((await put(key!, bytes)).status).toBe(403)
    expect(await storage.read(up.key)).toBeUndefined()
  })

  it('complete refuses a part never uploaded and an ETag that does not match', async () => {
    const { call } = setup()
    const data = generate(7 * MiB, 4)
    const up = await start(data.length, call)
    const parts = [1, 2].map((n) => ({ partNumber: n, bytes: slice(data, up.partSize, n) }))
    const [k1] = await sign(call, up, parts)
    const e1 = partEtag(await put(k1!, parts[0]!.bytes), parts[0]!.bytes)
    const path = `/uploads/${encodeURIComponent(up.uploadId)}/complete`
    const missing = await call('POST', path, { token: up.token, parts: [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e1 }] })
    expect([missing.status, missing.body.error.code]).toEqual([409, 'part_mismatch'])
    expect(missing.body.error.message).toMatch(/part 2 was never uploaded/)
    const short = await call('POST', path, { token: up.token, parts: [{ partNumber: 1, etag: e1 }] })
    expect([short.status, short.body.error.code]).toEqual([409, 'part_mismatch'])
    expect(await storage.read(up.key)).toBeUndefined()
  })

  it('abort frees the upload; later calls get upload_not_found and nothing is stored', async () => {
    const { call } = setup()
    const data = generate(6 * MiB, 5)
    const up = await start(data.length, call)
    const [key] = await sign(call, up, [{ partNumber: 1, bytes: slice(data, up.partSize, 1) }])
    expect((await put(key!, slice(data, up.partSize, 1))).status).toBeLessThan(300)
    const id = encodeURIComponent(up.uploadId)
    expect((await call('DELETE', `/uploads/${id}`, undefined, { 'valet-token': up.token })).status).toBe(204)
    expect((await call('DELETE', `/uploads/${id}`, undefined, { 'valet-token': up.token })).status).toBe(204)
    expect(await storage.openUploads(up.key)).toBe(0)
    const done = await call('POST', `/uploads/${id}/complete`, { token: up.token, parts: [{ partNumber: 1, etag: 'x' }, { partNumber: 2, etag: 'x' }] })
    expect(done.status).toBeGreaterThanOrEqual(400)
    expect(await storage.read(up.key)).toBeUndefined()
  })

  it('keeps serving after a burst of bad requests', async () => {
    const { call } = setup()
    const bad = await Promise.all([
      call('POST', '/uploads', { name: 'x', size: -1 }),
      call('POST', '/uploads', { name: 'x', size: 1 }, { 'x-user': '' }),
      call('POST', '/uploads/nope/parts', { token: 'v1.a.b', parts: [{ partNumber: 1, size: 1, md5: '1B2M2Y8AsgTpgAmY7PhCfg==' }] }),
      call('GET', '/uploads/nope/parts', undefined, { 'valet-token': 'garbage' }),
    ])
    expect(bad.map((r) => r.status)).toEqual([400, 401, 403, 403])
    const up = await start(6 * MiB, call)
    expect(up.partCount).toBe(2)
    await call('DELETE', `/uploads/${encodeURIComponent(up.uploadId)}`, undefined, { 'valet-token': up.token })
  })
})
