/**
 * `runDoctor` against a fake deployment on 127.0.0.1 (key endpoint and S3-like storage in one
 * node:http server), for what real storage can't be made to do on demand: a clock two minutes
 * off, a missing ETag exposure, an endpoint that won't abort, storage nobody can reach.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { DoctorArgs } from './doctor-args.js'
import type { DoctorReport } from './doctor-report.js'
import { runDoctor } from './doctor-run.js'

const MiB = 1024 * 1024

interface Behaviour {
  /** Storage answers preflights for any origin. */
  storageCors: boolean
  exposeHeaders: string | undefined
  storageClockOffsetMs: number
  /** Where keys point; `undefined`: this server. */
  storageBase: string | undefined
  endpointCors: 'none' | 'full' | 'no-delete'
  signStatus: number
  deleteStatus: number
  /** Whether POST /downloads is served (createValet with canRead). */
  downloads: boolean
}

const DEFAULTS: Behaviour = {
  storageCors: true,
  exposeHeaders: 'ETag',
  storageClockOffsetMs: 0,
  storageBase: undefined,
  endpointCors: 'full',
  signStatus: 200,
  deleteStatus: 204,
  downloads: false,
}

let server: Server
let base: string
let behaviour: Behaviour
let deleted: string[]
let created: number

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers })
  res.end(body === undefined ? undefined : JSON.stringify(body))
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function readBody(req: IncomingMessage): Promise<any> {
  let text = ''
  for await (const chunk of req) text += chunk
  return text ? JSON.parse(text) : undefined
}

function endpointCors(req: IncomingMessage, res: ServerResponse): boolean {
  if (behaviour.endpointCors === 'none') return false
  res.setHeader('access-control-allow-origin', req.headers.origin ?? '*')
  if (req.method !== 'OPTIONS') return false
  const methods = behaviour.endpointCors === 'full' ? 'GET, POST, DELETE' : 'GET, POST'
  send(res, 204, undefined, { 'access-control-allow-methods': methods, 'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '') })
  return true
}

async function endpoint(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (endpointCors(req, res)) return
  if (req.method === 'POST' && path === '/api/valet/uploads') {
    const body = await readBody(req)
    const partSize = body.partSize ?? 8 * MiB
    const id = `u${++created}`
    send(res, 201, { uploadId: id, key: `doc/${id}`, partSize, partCount: Math.ceil(body.size / partSize), token: `t-${id}`, expiresAt: new Date(Date.now() + 86_400_000).toISOString() })
    return
  }
  const parts = /^\/api\/valet\/uploads\/([^/]+)\/parts$/.exec(path)
  if (req.method === 'POST' && parts) {
    const body = await readBody(req)
    if (behaviour.signStatus !== 200) return send(res, behaviour.signStatus, { error: { code: 'invalid_token', message: 'bad token' } })
    const now = Date.now()
    const url = `${behaviour.storageBase ?? base}/store/${parts[1]}?partNumber=1&X-Amz-Signature=x`
    const signed = body.parts.map((p: { partNumber: number; md5: string }) => ({ partNumber: p.partNumber, url, method: 'PUT', headers: { 'Content-MD5': p.md5 }, expiresAt: new Date(now + 900_000).toISOString() }))
    return send(res, 200, { parts: signed, serverTime: new Date(now).toISOString() })
  }
  if (req.method === 'POST' && path === '/api/valet/downloads' && behaviour.downloads) {
    const body = await readBody(req)
    return send(res, 403, { error: { code: 'forbidden', message: `${body.key}: Valet's own records are never readable` } })
  }
  const one = /^\/api\/valet\/uploads\/([^/]+)$/.exec(path)
  if (req.method === 'DELETE' && one) {
    deleted.push(decodeURIComponent(one[1]!))
    return send(res, behaviour.deleteStatus)
  }
  send(res, 404, { error: { code: 'not_found', message: 'no route' } })
}

function storage(req: IncomingMessage, res: ServerResponse): void {
  const date = new Date(Date.now() + behaviour.storageClockOffsetMs).toUTCString()
  const cors: Record<string, string> = behaviour.storageCors ? { 'access-control-allow-origin': String(req.headers.origin ?? '*') } : {}
  if (req.method === 'OPTIONS') {
    if (!behaviour.storageCors) return send(res, 403, undefined, { date })
    return send(res, 200, undefined, { ...cors, date, 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': String(req.headers['access-control-request-headers']) })
  }
  req.resume()
  req.on('end', () => send(res, 200, undefined, { ...cors, date, etag: '"0123456789abcdef0123456789abcdef"', ...(behaviour.exposeHeaders ? { 'access-control-expose-headers': behaviour.exposeHeaders } : {}) }))
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path.startsWith('/store/')) storage(req, res)
    else endpoint(req, res, path).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise((resolve) => server.close(resolve)))

beforeEach(() => {
  behaviour = { ...DEFAULTS }
  deleted = []
  created = 0
})

const args = (origin = base): DoctorArgs => ({ endpoint: `${base}/api/valet`, origin, headers: { authorization: 'Bearer t' }, json: false })
const check = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)

describe('runDoctor against a fake deployment', () => {
  it('passes a healthy one, and aborts both test uploads', async () => {
    const report = await runDoctor(args())
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.checks.map((c) => c.id)).toEqual([
      'endpoint', 'sign', 'clock-key-server', 'storage-cors-preflight', 'storage-put', 'storage-cors-response', 'storage-cors-download', 'clock-storage', 'upload-rate', 'key-lifetime', 'cleanup',
    ])
    expect(check(report, 'storage-cors-download')?.message).toMatch(/downloads are off on this endpoint \(createValet has no canRead\)/)
    expect(report.figures).toMatchObject({ keyLifetimeSeconds: 900, partSizeBytes: 8 * MiB, uploadRateBytesPerSecond: expect.any(Number) })
    expect(deleted.sort()).toEqual(['u1', 'u2'])
  })

  it('fails an S3 bucket that does not expose ETag, and warns of a storage clock 2 min ahead', async () => {
    behaviour.exposeHeaders = 'x-amz-request-id'
    behaviour.storageClockOffsetMs = 120_000
    const report = await runDoctor(args())
    expect(report.ok).toBe(false)
    expect(check(report, 'storage-cors-response')).toMatchObject({ status: 'fail', fix: expect.stringContaining('"ExposeHeaders":["ETag"]') })
    expect(check(report, 'clock-storage')).toMatchObject({ status: 'warn', message: expect.stringMatching(/storage's clock is 12\d s ahead/) })
    expect(report.figures.skewStorageMs).toBeGreaterThan(119_000)
    expect(report.figures.skewStorageMs).toBeLessThan(121_500)
  })

  it('checks storage CORS for downloads when the endpoint serves them: Content-Range must be exposed too', async () => {
    behaviour.downloads = true
    let report = await runDoctor(args())
    expect(check(report, 'storage-cors-response')?.status).toBe('ok')
    expect(check(report, 'storage-cors-download')).toMatchObject({
      status: 'fail',
      message: 'browsers cannot download from storage: Content-Range is not in Access-Control-Expose-Headers (ETag)',
      fix: expect.stringContaining('"ExposeHeaders":["ETag","Content-Range"]'),
    })
    expect(report.ok).toBe(false)
    behaviour.exposeHeaders = 'ETag, Content-Range'
    report = await runDoctor(args())
    expect(check(report, 'storage-cors-download')).toMatchObject({ status: 'ok', message: expect.stringMatching(/preflight GET with if-match, range passes, ETag and Content-Range exposed/) })
    expect(report.ok).toBe(true)
    behaviour.storageCors = false
    report = await runDoctor(args())
    expect(check(report, 'storage-cors-download')).toMatchObject({ status: 'fail', message: expect.stringMatching(/preflight GET \(if-match, range\): the preflight was answered 403/) })
  })

  it('checks the key endpoint CORS for another origin: DELETE missing is a warning, no CORS a failure', async () => {
    behaviour.endpointCors = 'no-delete'
    let report = await runDoctor(args('http://localhost:5173'))
    expect(check(report, 'endpoint-cors')).toMatchObject({ status: 'warn', message: expect.stringMatching(/preflight DELETE \(authorization, valet-token\): DELETE is not in/) })
    expect(report.ok).toBe(true)
    behaviour.endpointCors = 'none'
    report = await runDoctor(args('http://localhost:5173'))
    expect(check(report, 'endpoint-cors')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/Access-Control-Allow-Origin: http:\/\/localhost:5173/) })
    expect(report.ok).toBe(false)
  })

  it('reports unreachable storage, and still aborts', async () => {
    behaviour.storageBase = 'http://127.0.0.1:9'
    const report = await runDoctor(args())
    expect(check(report, 'storage-put')).toMatchObject({ status: 'fail', message: expect.stringMatching(/no answer from storage at 127\.0\.0\.1:9 .*ECONNREFUSED/) })
    expect(check(report, 'upload-rate')?.status).toBe('warn')
    expect(check(report, 'key-lifetime')?.status).toBe('ok')
    expect(deleted).toHaveLength(2)
  })

  it('stops at a refused key but aborts what it created', async () => {
    behaviour.signStatus = 401
    const report = await runDoctor(args())
    expect(check(report, 'sign')).toMatchObject({ status: 'fail', message: 'POST /uploads/:id/parts failed (401 invalid_token: bad token)' })
    expect(report.checks.map((c) => c.id)).toEqual(['endpoint', 'sign', 'cleanup'])
    expect(deleted).toEqual(['u1'])
  })

  it('fails when the endpoint will not abort the test uploads', async () => {
    behaviour.deleteStatus = 500
    const report = await runDoctor(args())
    expect(check(report, 'cleanup')).toMatchObject({ status: 'fail', message: expect.stringMatching(/left in storage: doc\/u1 \(500\), doc\/u2 \(500\)/) })
    expect(report.ok).toBe(false)
  })
})
