/** `toNodeListener` on a real node:http server (the kit's key server), mounted under a prefix, in front of real Swift. */
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { bearer, generate, md5base64, sha256 } from '../support/key-endpoint.js'
import { startKeyServer, type KeyServer } from '../support/key-server.js'
import { swiftCase } from '../support/storages.js'

const storage = swiftCase()
let server: KeyServer
let base: string

beforeAll(async () => {
  server = await startKeyServer(storage.provider(), { authorize: bearer('good', 'bob') })
  base = server.endpoint
})
afterAll(() => server.close())

const auth = { authorization: 'Bearer good', 'content-type': 'application/json' }

describe('node:http adapter', () => {
  it('completes a real upload under a non-root prefix', async () => {
    const data = generate(7 * MiB, 21)
    const created = await fetch(`${base}/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'n.bin', size: data.length, partSize: 5 * MiB }) })
    expect(created.status).toBe(201)
    const up = await created.json()
    expect(up.key).toMatch(/^bob\//)
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)]
    const signed = await (
      await fetch(`${base}/uploads/${encodeURIComponent(up.uploadId)}/parts`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ token: up.token, parts: parts.map((p, i) => ({ partNumber: i + 1, size: p.length, md5: md5base64(p) })) }),
      })
    ).json()
    const etags = await Promise.all(
      signed.parts.map(async (k: { url: string; headers: Record<string, string>; partNumber: number }, i: number) => {
        const res = await fetch(k.url, { method: 'PUT', headers: k.headers, body: parts[i] as Uint8Array<ArrayBuffer> })
        return { partNumber: k.partNumber, etag: res.headers.get('etag')! }
      }),
    )
    const done = await fetch(`${base}/uploads/${encodeURIComponent(up.uploadId)}/complete`, { method: 'POST', headers: auth, body: JSON.stringify({ token: up.token, parts: etags }) })
    expect(done.status).toBe(200)
    expect(sha256((await storage.read(up.key))!.bytes)).toBe(sha256(data))
  })

  it('passes authentication through and returns protocol errors unchanged', async () => {
    const res = await fetch(`${base}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/application\/json/)
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'authentication required' } })
  })

  it('caps the body at 1 MiB, declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify({ name: 'x', size: 1, pad: 'x'.repeat(2 * MiB) })
    const declared = await fetch(`${base}/uploads`, { method: 'POST', headers: auth, body: big })
    expect(declared.status).toBe(413)
    // Chunked (no Content-Length): the cap must hold while streaming.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/uploads`, { method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      for (let i = 0; i < 4; i++) req.write('x'.repeat(MiB))
      req.end()
    })
    expect(streamed).toBe(413)
    const ok = await fetch(`${base}/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'x', size: 1 }) })
    expect(ok.status).toBe(201)
  })
})
