/**
 * The fault proxy itself, against a small echo origin on 127.0.0.1: what each fault does on the
 * wire, that the Host header and bodies pass through untouched, and that the counters are right.
 * The client tests rely on all of it.
 */
import { createHash } from 'node:crypto'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FaultProxy, isRangeGet, keyExpiry, startFaultProxy } from './fault-proxy.js'
import { classify } from './key-calls.js'

interface Seen {
  host: string | undefined
  url: string
  bytes: number
  md5: string
  complete: boolean
}

let origin: Server
let originUrl: string
const seen: Seen[] = []

beforeAll(async () => {
  // Stores nothing: answers like S3 UploadPart (ETag = hex MD5 of what it received).
  origin = createServer((req, res) => {
    const hash = createHash('md5')
    const entry: Seen = { host: req.headers.host, url: req.url ?? '', bytes: 0, md5: '', complete: false }
    seen.push(entry)
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      entry.bytes += chunk.length
    })
    req.on('end', () => {
      entry.complete = true
      entry.md5 = hash.digest('hex')
      res.writeHead(200, { etag: `"${entry.md5}"`, 'x-origin': 'yes' })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => {
  origin.close(() => resolve())
  origin.closeAllConnections()
}))

let proxy: FaultProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
  seen.length = 0
})

interface Answer {
  status?: number
  headers?: Record<string, string | string[] | undefined>
  body?: string
  error?: string
}

/** One PUT with node:http (no retries, no keep-alive surprises), with an optional timeout. */
function put(url: string, body: Buffer, timeoutMs = 5000, headers: Record<string, string> = {}): Promise<Answer> {
  return send('PUT', url, body, timeoutMs, headers)
}

function send(method: string, url: string, body: Buffer | undefined, timeoutMs = 5000, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const head = body === undefined ? headers : { 'content-length': String(body.length), 'content-md5': 'x', ...headers }
    const req = httpRequest(url, { method, headers: head, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }))
      res.on('error', (e) => resolve({ error: e.message }))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')))
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    req.end(body)
  })
}

const body = Buffer.alloc(1024 * 1024, 7)
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex')
const partUrl = (n: number) => `${proxy!.origin}/bucket/key?partNumber=${n}&uploadId=u1&X-Amz-Date=20300101T000000Z&X-Amz-Expires=60`

describe('fault proxy', () => {
  it('forwards with the client Host header and the body untouched, and counts it', async () => {
    proxy = await startFaultProxy({ target: originUrl })
    const res = await put(partUrl(3), body)
    expect(res.status).toBe(200)
    expect(res.headers?.['x-origin']).toBe('yes')
    expect(res.headers?.etag).toBe(`"${md5hex(body)}"`)
    expect(seen[0]!.host).toBe(new URL(proxy.origin).host)
    expect(seen[0]!.url).toBe(new URL(partUrl(3)).pathname + new URL(partUrl(3)).search)
    expect(proxy.stats.partPuts).toBe(1)
    expect(proxy.stats.bytesIn.get(3)).toBe(body.length)
    expect(proxy.stats.bytesForwarded.get(3)).toBe(body.length)
    expect(proxy.stats.parts[0]).toMatchObject({ partNumber: 3, attempt: 1, storageStatus: 200, clientStatus: 200, keyExpiresAt: Date.UTC(2030, 0, 1, 0, 1) })
    expect(proxy.endpointFor('http://127.0.0.1:1/devstoreaccount1/')).toBe(`${proxy.origin}/devstoreaccount1`)
  })

  it('recognises Azure Put Block by its block id and reads the SAS expiry', async () => {
    proxy = await startFaultProxy({ target: originUrl })
    const blockId = btoa(`00007.${'a'.repeat(32)}.${'A'.repeat(22)}==`)
    const url = `${proxy.origin}/acct/c/blob?comp=block&blockid=${encodeURIComponent(blockId)}&se=2030-01-01T00%3A00%3A00Z&sig=x`
    expect((await put(url, body)).status).toBe(200)
    expect((await put(url, body)).status).toBe(200)
    expect(proxy.stats.parts.map((p) => [p.partNumber, p.attempt])).toEqual([[7, 1], [7, 2]])
    expect(proxy.stats.parts[0]!.keyExpiresAt).toBe(Date.UTC(2030, 0, 1))
    expect(keyExpiry(new URLSearchParams('a=b'))).toBeUndefined()
  })

  it('reset-mid-body: storage gets about half and no complete body, the client a reset', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'reset-mid-body', times: 1 }] })
    const res = await put(partUrl(1), body)
    expect(res.error).toMatch(/ECONNRESET|EPIPE|socket hang up/)
    expect(proxy.stats.faults['reset-mid-body']).toBe(1)
    expect(proxy.stats.bytesForwarded.get(1)).toBe(body.length / 2)
    await new Promise((r) => setTimeout(r, 50))
    expect(seen.every((s) => !s.complete)).toBe(true)
    // times: 1: the next one goes through.
    expect((await put(partUrl(1), body)).status).toBe(200)
  })

  it('status faults answer without asking storage; 503 and 429 carry Retry-After: 1', async () => {
    proxy = await startFaultProxy({
      target: originUrl,
      rules: [
        { kind: 'status-500', match: (r) => r.partNumber === 1 },
        { kind: 'status-503-retry-after', match: (r) => r.partNumber === 2 },
        { kind: 'status-429-retry-after', match: (r) => r.partNumber === 3 },
      ],
    })
    const [a, b, c] = await Promise.all([put(partUrl(1), body), put(partUrl(2), body), put(partUrl(3), body)])
    expect([a.status, b.status, c.status]).toEqual([500, 503, 429])
    expect([a.headers?.['retry-after'], b.headers?.['retry-after'], c.headers?.['retry-after']]).toEqual([undefined, '1', '1'])
    expect(b.body).toContain('SlowDown')
    expect(seen).toEqual([])
    expect(proxy.stats.bytesIn.get(2)).toBe(body.length)
  })

  it('stall: the body is read, no answer comes; close() frees the connection', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'stall' }] })
    const t0 = Date.now()
    const res = await put(partUrl(1), body, 600)
    expect(res.error).toBe('timeout')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590)
    expect(proxy.stats.bytesIn.get(1)).toBe(body.length)
    const pending = put(partUrl(2), body, 10_000)
    await new Promise((r) => setTimeout(r, 100))
    await proxy.close()
    expect((await pending).error).toMatch(/ECONNRESET|socket hang up/)
    proxy = undefined
  })

  it('flip-bytes: storage receives every byte, one of them changed', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'flip-bytes' }] })
    const res = await put(partUrl(1), body)
    expect(res.status).toBe(200)
    expect(seen[0]!.bytes).toBe(body.length)
    const flipped = Buffer.from(body)
    flipped[body.length / 2] = flipped[body.length / 2]! ^ 0xff
    expect(seen[0]!.md5).toBe(md5hex(flipped))
  })

  it('wrong-etag: storage stores the part, the client sees another ETag', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'wrong-etag' }] })
    const res = await put(partUrl(1), body)
    expect(seen[0]!.md5).toBe(md5hex(body))
    expect(res.headers?.etag).not.toBe(`"${md5hex(body)}"`)
    expect(res.headers?.etag).toMatch(/^"[0-9a-f]{32}"$/)
  })

  it('drop-response: storage stores the part, the client gets no answer', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'drop-response', every: 2 }] })
    const first = await put(partUrl(1), body)
    const second = await put(partUrl(1), body)
    expect(first.status).toBe(200)
    expect(second.error).toMatch(/ECONNRESET|socket hang up/)
    expect(seen.map((s) => s.complete)).toEqual([true, true])
    expect(proxy.stats.parts.map((p) => [p.attempt, p.fault, p.storageStatus, p.clientStatus])).toEqual([
      [1, undefined, 200, 200],
      [2, 'drop-response', 200, undefined],
    ])
  })

  it('bandwidth limits the request bodies of all requests together', async () => {
    proxy = await startFaultProxy({ target: originUrl, bandwidth: 4 * 1024 * 1024 })
    const t0 = Date.now()
    const answers = await Promise.all([put(partUrl(1), body), put(partUrl(2), body)])
    const ms = Date.now() - t0
    expect(answers.map((a) => a.status)).toEqual([200, 200])
    // 2 MiB at 4 MiB/s: 500 ms.
    expect(ms).toBeGreaterThanOrEqual(450)
    expect(ms).toBeLessThan(1500)
  })

  it('cors: the proxy\'s own answers carry CORS headers for the request\'s origin only when asked to', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'status-503-retry-after' }] })
    const bare = await put(partUrl(1), body, 5000, { origin: 'http://127.0.0.1:1' })
    expect([bare.status, bare.headers?.['access-control-allow-origin']]).toEqual([503, undefined])
    await proxy.close()
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'status-503-retry-after' }], cors: { exposeHeaders: ['ETag', 'Retry-After'] } })
    const res = await put(partUrl(1), body, 5000, { origin: 'http://127.0.0.1:1' })
    expect(res.status).toBe(503)
    expect(res.headers?.['access-control-allow-origin']).toBe('http://127.0.0.1:1')
    expect(res.headers?.['access-control-expose-headers']).toBe('ETag, Retry-After')
    // No Origin, no CORS headers: not a browser.
    expect((await put(partUrl(2), body)).headers?.['access-control-allow-origin']).toBeUndefined()
  })

  it('forwards any HTTP (GET, POST, DELETE) and matches key-endpoint calls by route', async () => {
    const calls: string[] = []
    proxy = await startFaultProxy({
      target: originUrl,
      rules: [{ kind: 'status-500', match: (r) => (calls.push(classify(r.method, r.url)), classify(r.method, r.url) === 'complete') }],
    })
    const api = `${proxy.origin}/api/valet/uploads`
    expect((await send('POST', api, Buffer.from('{"name":"a"}'))).status).toBe(200)
    expect((await send('POST', `${api}/u1/parts`, Buffer.from('{}'))).status).toBe(200)
    expect((await send('GET', `${api}/u1/parts`, undefined)).status).toBe(200)
    expect((await send('POST', `${api}/u1/complete`, Buffer.from('{}'))).status).toBe(500)
    expect((await send('DELETE', `${api}/u1`, undefined)).status).toBe(200)
    expect((await send('GET', `${proxy.origin}/valet-client.js`, undefined)).status).toBe(200)
    expect(calls).toEqual(['create', 'sign', 'list', 'complete', 'abort', 'other'])
    expect(seen.map((s) => s.url)).toEqual(['/api/valet/uploads', '/api/valet/uploads/u1/parts', '/api/valet/uploads/u1/parts', '/api/valet/uploads/u1', '/valet-client.js'])
    expect(proxy.stats.partPuts).toBe(0)
  })

  it('reset-mid-body on a request without a body resets it before the target sees it', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'reset-mid-body', match: (r) => r.method === 'GET', times: 1 }] })
    const res = await send('GET', `${proxy.origin}/api/valet/uploads/u1/parts`, undefined)
    expect(res.error).toMatch(/ECONNRESET|socket hang up/)
    expect(seen).toEqual([])
    expect((await send('GET', `${proxy.origin}/api/valet/uploads/u1/parts`, undefined)).status).toBe(200)
  })

  it('outage: cuts open connections, refuses new ones for outageMs, then listens on the same port again', async () => {
    proxy = await startFaultProxy({ target: originUrl, rules: [{ kind: 'outage', match: (r) => classify(r.method, r.url) === 'sign', outageMs: 800, times: 1 }] })
    // An exchange in progress (a stall) is cut by the outage too.
    proxy.rules.push({ kind: 'stall', match: (r) => r.method === 'GET' })
    const inFlight = send('GET', `${proxy.origin}/x`, undefined, 10_000)
    await new Promise((r) => setTimeout(r, 100))
    const t0 = Date.now()
    const cut = await send('POST', `${proxy.origin}/api/valet/uploads/u1/parts`, Buffer.from('{}'))
    expect(cut.error).toMatch(/ECONNRESET|socket hang up/)
    expect((await inFlight).error).toMatch(/ECONNRESET|socket hang up/)
    expect((await send('POST', `${proxy.origin}/api/valet/uploads`, Buffer.from('{}'))).error).toBe('ECONNREFUSED')
    await expect.poll(async () => (await send('POST', `${proxy!.origin}/api/valet/uploads`, Buffer.from('{}'))).status, { timeout: 5000, interval: 100 }).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(790)
    expect(proxy.stats.faults.outage).toBe(1)
    expect(proxy.stats.outages).toHaveLength(1)
    expect(proxy.stats.outages[0]!.to! - proxy.stats.outages[0]!.from).toBeGreaterThanOrEqual(790)
    expect(seen.map((s) => s.url)).toEqual(['/api/valet/uploads'])
  })

  it('close() during an outage ends it without listening again', async () => {
    proxy = await startFaultProxy({ target: originUrl })
    const port = new URL(proxy.origin).port
    const outage = proxy.down(60_000)
    await new Promise((r) => setTimeout(r, 50))
    await proxy.close()
    await outage
    expect((await send('GET', `http://127.0.0.1:${port}/x`, undefined)).error).toBe('ECONNREFUSED')
    proxy = undefined
  })
})

describe('fault proxy: range GETs (downloads)', () => {
  const object = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 31) & 0xff))
  let ranged: Server
  let rangedUrl: string
  beforeAll(async () => {
    // Answers a ranged GET like storage: 206 with exactly the bytes asked, Content-Length set.
    ranged = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? req.headers['x-ms-range'] ?? ''))
      const slice = m ? object.subarray(Number(m[1]), Number(m[2]) + 1) : object
      res.writeHead(m ? 206 : 200, { 'content-length': slice.length, etag: '"v1"' })
      res.end(slice)
    })
    await new Promise<void>((resolve) => ranged.listen(0, '127.0.0.1', resolve))
    rangedUrl = `http://127.0.0.1:${(ranged.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => {
    ranged.close(() => resolve())
    ranged.closeAllConnections()
  }))

  /** One ranged GET; the bytes received before any error. */
  function getRange(url: string, start: number, end: number, timeoutMs = 5000, header = 'range'): Promise<{ status?: number; bytes: Buffer; error?: string }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = []
      let status: number | undefined
      const req = httpRequest(url, { headers: { [header]: `bytes=${start}-${end - 1}`, 'if-match': '"v1"' }, agent: false }, (res) => {
        status = res.statusCode
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status, bytes: Buffer.concat(chunks) }))
        res.on('error', (e) => resolve({ status, bytes: Buffer.concat(chunks), error: e.message }))
        res.on('aborted', () => resolve({ status, bytes: Buffer.concat(chunks), error: 'aborted' }))
      })
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')))
      req.on('error', (e) => resolve({ status, bytes: Buffer.concat(chunks), error: (e as NodeJS.ErrnoException).code ?? e.message }))
      req.end()
    })
  }

  it('records each range GET (range, attempt, If-Match, bytes sent); part-PUT rules leave it alone', async () => {
    proxy = await startFaultProxy({ target: rangedUrl, rules: [{ kind: 'status-500' }] })
    const url = `${proxy.origin}/bucket/obj?X-Amz-Date=20300101T000000Z&X-Amz-Expires=60&X-Amz-Signature=x`
    const a = await getRange(url, 1000, 201_000)
    expect(a.status).toBe(206)
    expect(a.bytes.equals(object.subarray(1000, 201_000))).toBe(true)
    expect((await getRange(url, 1000, 201_000, 5000, 'x-ms-range')).status).toBe(206)
    expect(proxy.stats.gets).toMatchObject([
      { path: '/bucket/obj', start: 1000, end: 201_000, attempt: 1, ifMatch: '"v1"', storageStatus: 206, clientStatus: 206, bytesOut: 200_000, delivered: true, keyExpiresAt: Date.UTC(2030, 0, 1, 0, 1) },
      { start: 1000, end: 201_000, attempt: 2 },
    ])
    expect(proxy.stats.faults['status-500']).toBe(0)
    // Without a key in the query (the key server's own header-signed reads): not a download's range.
    expect((await getRange(`${proxy.origin}/bucket/obj`, 0, 10)).status).toBe(206)
    expect(proxy.stats.gets).toHaveLength(2)
  })

  it('truncate-response: storage\'s status and Content-Length, half the body, then a reset', async () => {
    proxy = await startFaultProxy({ target: rangedUrl, rules: [{ kind: 'truncate-response', match: isRangeGet, times: 1 }] })
    const res = await getRange(`${proxy.origin}/b/o?sig=x`, 0, 400_000)
    expect(res.status).toBe(206)
    expect(res.error).toBeDefined()
    expect(res.bytes.length).toBe(200_000)
    expect(proxy.stats.gets[0]).toMatchObject({ fault: 'truncate-response', bytesOut: 200_000, delivered: false })
    expect((await getRange(`${proxy.origin}/b/o?sig=x`, 0, 400_000)).bytes.length).toBe(400_000)
  })

  it('flip-response-byte: the whole body arrives with exactly one byte flipped, in the middle', async () => {
    proxy = await startFaultProxy({ target: rangedUrl, rules: [{ kind: 'flip-response-byte', match: isRangeGet, times: 1 }] })
    const res = await getRange(`${proxy.origin}/b/o?sig=x`, 100, 300_100)
    expect(res.status).toBe(206)
    const expected = object.subarray(100, 300_100)
    const diff = [...res.bytes.keys()].filter((i) => res.bytes[i] !== expected[i])
    expect(diff).toEqual([150_000])
    expect(res.bytes[150_000]).toBe(expected[150_000]! ^ 0xff)
  })

  it('stall-mid-response: half the body, then nothing until the client gives up', async () => {
    proxy = await startFaultProxy({ target: rangedUrl, rules: [{ kind: 'stall-mid-response', match: isRangeGet, times: 1 }] })
    const t0 = Date.now()
    const res = await getRange(`${proxy.origin}/b/o?sig=x`, 0, 200_000, 600)
    expect(res.status).toBe(206)
    expect(res.error).toBeDefined()
    expect(res.bytes.length).toBe(100_000)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550)
  })

  it('responseBandwidth throttles answer bodies', async () => {
    proxy = await startFaultProxy({ target: rangedUrl, responseBandwidth: 1024 * 1024 })
    const t0 = Date.now()
    expect((await getRange(`${proxy.origin}/b/o?sig=x`, 0, 512 * 1024)).bytes.length).toBe(512 * 1024)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400)
  })
})
