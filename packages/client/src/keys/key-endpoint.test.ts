import { describe, expect, it } from 'vitest'
import { ValetError } from '@valet/protocol'
import { KeyEndpoint } from './key-endpoint.js'
import type { HttpRequest, HttpResponse, Transport } from '../ports.js'

function endpoint(answer: (req: HttpRequest) => HttpResponse | Promise<HttpResponse>, retries = 0, retryWindow = 0, requestTimeout = 0) {
  const seen: HttpRequest[] = []
  const transport: Transport = {
    request: async (req) => {
      seen.push(req)
      return answer(req)
    },
  }
  const answered = new Set<string>()
  const api = new KeyEndpoint({
    endpoint: 'http://127.0.0.1:3000/api', headers: async () => ({ authorization: 'Bearer x' }), transport, retries, retryWindow, requestTimeout,
    backoff: { base: 1, cap: 1 }, clock: { now: () => Date.now() }, answered,
  })
  return { api, seen, answered }
}
const signal = new AbortController().signal
const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body: JSON.stringify(body) })

describe('KeyEndpoint', () => {
  it('sends the token header on GET and DELETE, the token in the body elsewhere, user headers always', async () => {
    const { api, seen } = endpoint((req) => (req.method === 'DELETE' ? { status: 204, headers: {}, body: '' } : json(200, { parts: [] })))
    await api.listParts('u/1', 'tok', signal)
    await api.deleteUpload('u/1', 'tok', signal)
    expect(seen.map((r) => [r.method, r.url, r.headers['valet-token'], r.headers.authorization])).toEqual([
      ['GET', 'http://127.0.0.1:3000/api/uploads/u%2F1/parts', 'tok', 'Bearer x'],
      ['DELETE', 'http://127.0.0.1:3000/api/uploads/u%2F1', 'tok', 'Bearer x'],
    ])
  })

  it('turns an HTML page into server_error with a hint about the endpoint option', async () => {
    const { api } = endpoint(() => ({ status: 404, headers: {}, body: '<html>Not Found</html>' }))
    await expect(api.listParts('u', 't', signal)).rejects.toMatchObject({ code: 'server_error', context: { status: 404, body: '<html>Not Found</html>' } })
    const ok = endpoint(() => ({ status: 200, headers: {}, body: '<html>login</html>' }))
    await expect(ok.api.listParts('u', 't', signal)).rejects.toMatchObject({ code: 'server_error', message: expect.stringContaining('endpoint option') })
  })

  it('rejects a 2xx body that breaks the protocol, naming the field', async () => {
    const { api } = endpoint(() => json(200, { parts: [{ partNumber: 1, url: 'u', method: 'POST', headers: {}, expiresAt: 'x' }], serverTime: 'now' }))
    await expect(api.signParts('u', 't', [{ partNumber: 1, size: 1, md5: 'AAAAAAAAAAAAAAAAAAAAAA==' }], signal)).rejects.toMatchObject({
      code: 'server_error', message: expect.stringContaining('parts[0].method'),
    })
  })

  it('honours Retry-After on 429 from the key endpoint', async () => {
    let calls = 0
    const { api } = endpoint(() => (++calls === 1 ? json(429, { error: { code: 'rate_limited', message: 'slow' } }, { 'retry-after': '0' }) : json(200, { parts: [] })), 1)
    await expect(api.listParts('u', 't', signal)).resolves.toEqual([])
    expect(calls).toBe(2)
  })

  it('fails at once on the open-upload cap (429 too_many_uploads): waiting does not lift it', async () => {
    const { api, seen } = endpoint(() => json(429, { error: { code: 'too_many_uploads', message: 'finish some' } }, { 'retry-after': '0' }), 3, 60_000)
    await expect(api.listParts('u', 't', signal)).rejects.toMatchObject({ code: 'too_many_uploads' })
    expect(seen).toHaveLength(1)
  })

  it('abandons an attempt that gets no answer within requestTimeout, then retries', async () => {
    let calls = 0
    const never = (req: HttpRequest) =>
      new Promise<HttpResponse>((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason)))
    const { api } = endpoint((req) => (++calls === 1 ? never(req) : json(204, {})), 1, 0, 50)
    await api.deleteUpload('u1', 'tok', signal)
    expect(calls).toBe(2)
  })

  it('once the endpoint has answered, keeps retrying network errors for retryWindow even past `retries`', async () => {
    let calls = 0
    const { api } = endpoint(() => {
      if (++calls === 1) return json(204, {})
      if (calls < 5) throw new ValetError('network_error', 'ECONNREFUSED', { context: { code: 'ECONNREFUSED' } })
      return json(204, {})
    }, 0, 2_000)
    await api.deleteUpload('u1', 'tok', signal)
    await api.deleteUpload('u1', 'tok', signal)
    expect(calls).toBe(5)
  })

  describe('before the endpoint ever answered', () => {
    const refused = () => {
      throw new ValetError('network_error', 'connect ECONNREFUSED 127.0.0.1:3000', { context: { code: 'ECONNREFUSED' } })
    }

    it('reports a refused connection within 3 s, naming the URL, the cause and valet doctor, retries or not', async () => {
      const { api, seen } = endpoint(refused, 5, 30_000)
      const t0 = Date.now()
      const error = await api.createUpload({ name: 'a', size: 1, type: '' }, signal).catch((e: unknown) => e)
      expect(Date.now() - t0).toBeLessThan(3_500)
      expect(seen.length).toBeGreaterThan(1) // a server still starting gets a few quick tries
      expect(error).toMatchObject({ code: 'network_error', context: { cause: 'refused', reached: false, url: 'http://127.0.0.1:3000/api' } })
      expect((error as Error).message).toMatch(/http:\/\/127\.0\.0\.1:3000\/api.*connection refused.*valet doctor --endpoint http:\/\/127\.0\.0\.1:3000\/api/)
    })

    it('fails at once on a name that does not resolve', async () => {
      const { api, seen } = endpoint(() => {
        throw new ValetError('network_error', 'getaddrinfo ENOTFOUND nope.invalid', { context: { code: 'ENOTFOUND' } })
      }, 5, 30_000)
      await expect(api.createUpload({ name: 'a', size: 1, type: '' }, signal)).rejects.toMatchObject({ code: 'network_error', context: { cause: 'dns' } })
      expect(seen).toHaveLength(1)
    })

    it.each([404, 405])('fails at once on a %i page, saying it is not where @valet/server is mounted', async (status) => {
      const { api, seen } = endpoint(() => ({ status, headers: {}, body: 'Cannot POST /uploads' }), 5, 30_000)
      const error = await api.createUpload({ name: 'a', size: 1, type: '' }, signal).catch((e: unknown) => e)
      expect(seen).toHaveLength(1)
      expect(error).toMatchObject({ code: 'server_error', context: { status, reached: false } })
      expect((error as Error).message).toMatch(new RegExp(`http://127\\.0\\.0\\.1:3000/api answered ${status} to POST /uploads.*mounted.*valet doctor`))
    })

    it('reports a proxy\'s 502 page (nothing behind it) like an unreachable server, after quick retries', async () => {
      const { api, seen } = endpoint(() => ({ status: 502, headers: {}, body: '<html>Bad Gateway</html>' }), 5, 30_000)
      await expect(api.createUpload({ name: 'a', size: 1, type: '' }, signal)).rejects.toMatchObject({ code: 'network_error', context: { cause: 'proxy', status: 502 } })
      expect(seen.length).toBeGreaterThan(1)
    })

    it('keeps a Valet error as it is: the endpoint is real', async () => {
      const { api, answered } = endpoint(() => json(404, { error: { code: 'upload_not_found', message: 'no such upload' } }))
      await expect(api.listParts('u', 't', signal)).rejects.toMatchObject({ code: 'upload_not_found' })
      expect(answered.has('http://127.0.0.1:3000/api')).toBe(true)
    })
  })
})

describe('KeyEndpoint batch calls', () => {
  const created = (i: number) => ({ uploadId: `u${i}`, key: `k${i}`, partSize: 10, partCount: 1, token: 't'.repeat(16), expiresAt: new Date(Date.now() + 60_000).toISOString() })
  const body = (name: string) => ({ name, size: 10, type: '' })

  it('answers each create of a batch as its own route would: the answer with its timing, or the typed error', async () => {
    const serverTime = new Date(Date.now() + 3_600_000).toISOString()
    const { api, seen } = endpoint(() =>
      json(200, { uploads: [{ status: 201, body: created(1) }, { status: 415, body: { error: { code: 'type_not_allowed', message: 'no html' } } }], serverTime }),
    )
    const [ok, refused] = await api.createBatch([body('a'), body('b')], signal)
    expect(seen.map((r) => [r.method, r.url])).toEqual([['POST', 'http://127.0.0.1:3000/api/uploads/batch']])
    expect(JSON.parse(seen[0]!.body as string)).toEqual({ uploads: [body('a'), body('b')] })
    expect(ok).toMatchObject({ ok: true, value: { created: { uploadId: 'u1' }, timing: { serverTime: Date.parse(serverTime) } } })
    expect(refused).toMatchObject({ ok: false, status: 415, error: { code: 'type_not_allowed', context: { status: 415, operation: 'create' } } })
  })

  it('refuses an answer with another number of results, and says a server without the route is one (not_found)', async () => {
    const short = endpoint(() => json(200, { uploads: [{ status: 201, body: created(1) }], serverTime: new Date().toISOString() }))
    await expect(short.api.createBatch([body('a'), body('b')], signal)).rejects.toMatchObject({ code: 'server_error', message: expect.stringContaining('uploads') })
    const old = endpoint(() => json(404, { error: { code: 'not_found', message: 'no route' } }))
    await expect(old.api.completeBatch([{ uploadId: 'u', token: 't', parts: [{ partNumber: 1, etag: 'e' }] }], signal)).rejects.toMatchObject({ code: 'not_found' })
  })
})
