/**
 * Single-PUT uploads on real storage: one key from create, one PUT of the whole object, complete
 * verifies what storage holds. And what else the key lets a holder do: nothing beyond writing
 * these bytes, with this type and metadata, at this key.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { KiB, type SignedPart } from '@valet/protocol'
import { generate, keyEndpoint, md5base64, sha256 } from '../support/key-endpoint.js'
import { expectStored, storageCases } from '../support/storages.js'
import { AttackLog } from './attack-log.js'

const log = new AttackLog('single-put')
afterAll(() => log.write())

type Created = { uploadId: string; key: string; token: string; mode?: string; parts?: SignedPart[] }

describe.each(storageCases)('single-PUT uploads on %o', (makeCase) => {
  const storage = makeCase()
  const provider = storage.provider()
  const user = () => `single-${randomUUID().slice(0, 8)}`
  const setup = (options: Parameters<typeof keyEndpoint>[1] = {}) => {
    const { call } = keyEndpoint(provider, options)
    const as = user()
    const create = async (bytes: Uint8Array, more: Record<string, unknown> = {}): Promise<Created> => {
      const res = await call('POST', '/uploads', { name: 'notes.txt', size: bytes.byteLength, type: 'text/plain', md5: md5base64(bytes), metadata: { album: 'x' }, ...more }, { 'x-user': as })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res.body
    }
    const complete = (up: Created, etag = 'any') =>
      call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/complete`, { token: up.token, parts: [{ partNumber: 1, etag }] }, { 'x-user': as })
    const abort = (up: Created) => call('DELETE', `/uploads/${encodeURIComponent(up.uploadId)}`, undefined, { 'valet-token': up.token, 'x-user': as })
    return { call, as, create, complete, abort }
  }
  const put = (key: SignedPart, body: Uint8Array, headers: Record<string, string> = key.headers, url = key.url) =>
    fetch(url, { method: 'PUT', headers, body: body as Uint8Array<ArrayBuffer> })

  it('one PUT with the key from create, then complete: stored whole, with its type and metadata', async () => {
    const { create, complete } = setup()
    const bytes = generate(300 * KiB, 3)
    const up = await create(bytes)
    expect(up.mode).toBe('single')
    const res = await put(up.parts![0]!, bytes)
    expect(res.status, await res.clone().text()).toBeLessThan(300)
    const done = await complete(up, res.headers.get('etag') ?? '')
    expect(done.status, JSON.stringify(done.body)).toBe(200)
    expect(done.body).toMatchObject({ key: up.key, size: bytes.byteLength })
    const stored = await expectStored(storage, up.key, { size: bytes.byteLength, sha256: sha256(bytes) })
    expect(stored.type).toMatch(/^text\/plain/)
    expect(stored.metadata.album).toBe('x')
  })

  it('storage refuses other bytes, another size, other headers, another key and other methods', async () => {
    const { create, complete } = setup()
    const bytes = generate(64 * KiB, 4)
    const up = await create(bytes)
    const key = up.parts![0]!
    const flipped = bytes.slice()
    flipped[100]! ^= 1
    const typeName = Object.keys(key.headers).find((h) => /content-type$/i.test(h))!
    const elsewhere = new URL(key.url)
    elsewhere.pathname = elsewhere.pathname.replace(/notes\.txt$/, 'other.txt')
    const attempts: Record<string, () => Promise<Response>> = {
      'bytes that do not match the signed MD5': () => put(key, flipped),
      'a body one byte shorter': () => put(key, bytes.subarray(1)),
      'another Content-Type than signed': () => put(key, bytes, { ...key.headers, [typeName]: 'text/html' }),
      'path edited to another object': () => put(key, bytes, key.headers, elsewhere.toString()),
      'the key used for GET': () => fetch(key.url),
      'the key used for DELETE': () => fetch(key.url, { method: 'DELETE' }),
    }
    for (const [attack, attempt] of Object.entries(attempts)) {
      const status = (await attempt()).status
      expect(status, attack).toBeGreaterThanOrEqual(400)
      log.record({ group: 'S', attack: `single-PUT key: ${attack}`, store: storage.name, outcome: `${status}, nothing stored`, refused: true })
    }
    expect(await storage.read(up.key)).toBeUndefined()
    expect(await storage.read(up.key.replace(/notes\.txt$/, 'other.txt'))).toBeUndefined()
    expect((await complete(up)).body.error.code).toBe('part_mismatch')
    // The file itself still goes in with the same key, and completes.
    expect((await put(key, bytes)).status).toBeLessThan(300)
    expect((await complete(up)).status).toBe(200)
    await expectStored(storage, up.key, { size: bytes.byteLength, sha256: sha256(bytes) })
  })

  it('after complete the token is spent; the key never changes the object', async () => {
    let runs = 0
    const { create, complete, call, as, abort } = setup({ onComplete: async () => ({ runs: ++runs }) })
    const bytes = generate(10 * KiB, 5)
    const up = await create(bytes)
    expect((await put(up.parts![0]!, bytes)).status).toBeLessThan(300)
    expect((await complete(up)).body.result).toEqual({ runs: 1 })
    const again = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, { token: up.token, parts: [{ partNumber: 1, size: bytes.byteLength, md5: md5base64(bytes) }] }, { 'x-user': as })
    expect(again.body.error.code).toBe('upload_not_found')
    // Write-once stores refuse the second PUT; Swift s3api 2.30 takes it, and it can only write
    // the same bytes and headers over themselves.
    const second = await put(up.parts![0]!, bytes)
    if (storage.name === 'swift') expect(second.status).toBeLessThan(300)
    else expect(second.status).toBeGreaterThanOrEqual(400)
    expect((await complete(up)).body.result).toEqual({ runs: 1 })
    expect((await abort(up)).status).toBe(204)
    await expectStored(storage, up.key, { size: bytes.byteLength, sha256: sha256(bytes) })
    expect(runs).toBe(1)
    log.record({ group: 'S', attack: 'single-PUT key: sign after complete', store: storage.name, outcome: 'upload_not_found (404)', refused: true })
    log.record({
      group: 'S',
      attack: 'single-PUT key: the same PUT again after complete',
      store: storage.name,
      outcome: second.status < 300 ? `${second.status}: the same bytes and headers rewritten (no conditional PUT); object unchanged` : `${second.status}, object unchanged`,
      // Swift: the holder can only rewrite the identical object until keyTtl; stated as residual.
      refused: second.status >= 400,
    })
    log.record({ group: 'S', attack: 'single-PUT: abort after complete', store: storage.name, outcome: 'object kept, onComplete ran once', refused: true })
  })

  it('headers a holder adds that the store keeps: complete refuses what it checks; the rest is stated', async () => {
    let runs = 0
    const { create, complete } = setup({ onComplete: async () => void runs++ })
    const bytes = generate(4 * KiB, 7)
    const a = await create(bytes)
    const disposition = await put(a.parts![0]!, bytes, { ...a.parts![0]!.headers, 'Content-Disposition': 'inline; filename="x.html"' })
    if (disposition.status < 300) {
      const done = await complete(a)
      expect(done.status).toBeGreaterThanOrEqual(400)
    }
    expect(runs).toBe(0)
    log.record({ group: 'S', attack: 'single-PUT key: an unsigned Content-Disposition added', store: storage.name, outcome: disposition.status < 300 ? 'stored; complete refuses, onComplete never runs' : `${disposition.status}`, refused: true })
    if (storage.name !== 'swift') return
    const b = await create(bytes)
    const expiring = await put(b.parts![0]!, bytes, { ...b.parts![0]!.headers, 'X-Delete-After': '3600' })
    // Swift 2.30 keeps it and the S3 API cannot show it (Swift ≥ 2.31 refuses the header).
    log.record({ group: 'S', attack: 'single-PUT key: X-Delete-After added', store: 'swift', outcome: expiring.status < 300 ? `${expiring.status}: the object expires (Swift < 2.31)` : `${expiring.status}`, refused: expiring.status >= 400 })
  })

  it('abort before complete removes a landed object (onComplete set)', async () => {
    const { create, abort, complete } = setup({ onComplete: async () => undefined })
    const bytes = generate(8 * KiB, 6)
    const up = await create(bytes)
    expect((await put(up.parts![0]!, bytes)).status).toBeLessThan(300)
    expect((await abort(up)).status).toBe(204)
    expect(await storage.read(up.key)).toBeUndefined()
    expect((await complete(up)).body.error.code).toBe('part_mismatch')
  })
})
