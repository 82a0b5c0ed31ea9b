/**
 * Test-only: a Valet key endpoint and an S3-like storage in memory, as msw handlers. Storage
 * checks what real storage checks (key expiry on arrival, signed Content-MD5, BadDigest, size),
 * and counts what the tests assert on (sign calls, PUTs in flight, time left on keys).
 */
import { createHash } from 'node:crypto'
import { http, HttpResponse, delay, type HttpHandler, type PathParams } from 'msw'

export const ENDPOINT = 'http://127.0.0.1:3000/api/valet'
export const STORAGE = 'http://127.0.0.1:9000/bucket'

export interface PutInfo {
  uploadId: string
  partNumber: number
  /** 1 for the first PUT of this part, 2 for the next... */
  attempt: number
  body: Uint8Array
  headers: Headers
}

export interface FakeValetOptions {
  /** The part size the server answers with (the client must obey it). */
  partSize: number
  keyTtlMs: number
  /** Server clock minus real clock. */
  clockOffsetMs: number
  /** How long storage takes to answer a PUT, ms. */
  putDelayMs: number
  /** 's3': `ETag: "hex md5"`; 'azure': no ETag, `Content-MD5` echoed (Put Block); 'azurite': neither. */
  etagStyle: 's3' | 'azure' | 'azurite'
  /** Return a response to answer a PUT with it instead of storing the part. */
  onPut?: (info: PutInfo) => Response | undefined | Promise<Response | undefined>
  /** Return a response to answer a key-endpoint call with it. */
  onEndpoint?: (operation: string, request: Request) => Response | undefined | Promise<Response | undefined>
}

interface StoredPart {
  size: number
  etag: string
}

export interface FakeUpload {
  id: string
  size: number
  partSize: number
  partCount: number
  token: string
  parts: Map<number, StoredPart>
  deleted: boolean
  completed: boolean
}

const md5hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')
const md5b64 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64')
const fail = (status: number, code: string, message = code) => HttpResponse.json({ error: { code, message } }, { status })

export function fakeValet(initial: Partial<FakeValetOptions> = {}) {
  const options: FakeValetOptions = { partSize: 1024, keyTtlMs: 60_000, clockOffsetMs: 0, putDelayMs: 0, etagStyle: 's3', ...initial }
  const uploads = new Map<string, FakeUpload>()
  const stats = {
    creates: 0,
    /** Every create body, in order (`requestId` included). */
    createBodies: [] as { name: string; size: number; requestId?: string }[],
    signCalls: 0,
    signBatches: [] as number[][],
    lists: 0,
    completes: [] as { partNumber: number; etag: string }[][],
    deletes: 0,
    puts: new Map<number, number>(),
    inFlight: 0,
    maxInFlight: 0,
    expiredPuts: 0,
    minTimeLeftMs: Number.POSITIVE_INFINITY,
    endpointHeaders: [] as Headers[],
    putHeaders: [] as Headers[],
  }
  const serverNow = (): number => Date.now() + options.clockOffsetMs
  let nextId = 1
  /** Like the real server with S3: a create with a known requestId gets that upload back while it is open. */
  const byRequestId = new Map<string, string>()

  const byToken = (id: string, token: string | null): FakeUpload | Response => {
    const u = uploads.get(id)
    if (!u || u.deleted) return fail(404, 'upload_not_found')
    if (token !== u.token) return fail(403, 'token_invalid')
    return u
  }

  const endpoint = (operation: string, handle: (request: Request, params: Record<string, string>) => Promise<Response>) =>
    async ({ request, params }: { request: Request; params: PathParams }): Promise<Response> => {
      stats.endpointHeaders.push(request.headers)
      const override = await options.onEndpoint?.(operation, request)
      return override ?? handle(request, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])))
    }

  const handlers: HttpHandler[] = [
    http.post(`${ENDPOINT}/uploads`, endpoint('create', async (request) => {
      const body = (await request.json()) as { name: string; size: number; requestId?: string }
      stats.createBodies.push(body)
      const known = body.requestId === undefined ? undefined : uploads.get(byRequestId.get(body.requestId) ?? '')
      if (known && !known.deleted && !known.completed) {
        const expiresAt = new Date(serverNow() + 86_400_000).toISOString()
        const { id, partSize, partCount, token } = known
        return HttpResponse.json({ uploadId: id, key: `objects/${id}`, partSize, partCount, token, expiresAt }, { status: 201 })
      }
      stats.creates++
      const id = `up-${nextId++}`
      if (body.requestId !== undefined) byRequestId.set(body.requestId, id)
      const u: FakeUpload = {
        id, size: body.size, partSize: options.partSize, partCount: Math.ceil(body.size / options.partSize),
        token: `tok-${id}`, parts: new Map(), deleted: false, completed: false,
      }
      uploads.set(id, u)
      const { partSize, partCount, token } = u
      const expiresAt = new Date(serverNow() + 86_400_000).toISOString()
      return HttpResponse.json({ uploadId: id, key: `objects/${id}`, partSize, partCount, token, expiresAt }, { status: 201 })
    })),
    http.post(`${ENDPOINT}/uploads/:id/parts`, endpoint('sign', async (request, { id = "" }) => {
      const body = (await request.json()) as { token: string; parts: { partNumber: number; size: number; md5: string }[] }
      const u = byToken(id, body.token)
      if (u instanceof Response) return u
      stats.signCalls++
      stats.signBatches.push(body.parts.map((p) => p.partNumber))
      const now = serverNow()
      const exp = now + options.keyTtlMs
      const parts = body.parts.map((p) => ({
        partNumber: p.partNumber,
        url: `${STORAGE}/${id}/${p.partNumber}?exp=${exp}&size=${p.size}&md5=${encodeURIComponent(p.md5)}&sig=secret`,
        method: 'PUT',
        headers: { 'Content-MD5': p.md5 },
        expiresAt: new Date(exp).toISOString(),
      }))
      return HttpResponse.json({ parts, serverTime: new Date(now).toISOString() })
    })),
    http.get(`${ENDPOINT}/uploads/:id/parts`, endpoint('list', async (request, { id = "" }) => {
      stats.lists++
      const u = byToken(id, request.headers.get('valet-token'))
      if (u instanceof Response) return u
      const parts = [...u.parts].map(([partNumber, p]) => ({ partNumber, size: p.size, etag: p.etag }))
      return HttpResponse.json({ parts })
    })),
    http.post(`${ENDPOINT}/uploads/:id/complete`, endpoint('complete', async (request, { id = "" }) => {
      const body = (await request.json()) as { token: string; parts: { partNumber: number; etag: string }[] }
      const u = byToken(id, body.token)
      if (u instanceof Response) return u
      stats.completes.push(body.parts)
      for (let n = 1; n <= u.partCount; n++) {
        const given = body.parts.find((p) => p.partNumber === n)
        if (!given || u.parts.get(n)?.etag !== given.etag) return fail(409, 'part_mismatch', `part ${n}`)
      }
      u.completed = true
      return HttpResponse.json({ key: `objects/${id}`, size: u.size, etag: '"multipart-etag"', location: `${STORAGE}/objects/${id}`, result: { id: 42 } })
    })),
    http.delete(`${ENDPOINT}/uploads/:id`, endpoint('delete', async (request, { id = "" }) => {
      stats.deletes++
      const u = byToken(id, request.headers.get('valet-token'))
      if (u instanceof Response) return u
      u.deleted = true
      return new HttpResponse(null, { status: 204 })
    })),
    http.put(`${STORAGE}/:id/:n`, async ({ request, params }) => {
      const arrival = serverNow()
      stats.inFlight++
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
      try {
        const url = new URL(request.url)
        const partNumber = Number(params.n)
        const attempt = (stats.puts.get(partNumber) ?? 0) + 1
        stats.puts.set(partNumber, attempt)
        stats.putHeaders.push(request.headers)
        const left = Number(url.searchParams.get('exp')) - arrival
        stats.minTimeLeftMs = Math.min(stats.minTimeLeftMs, left)
        if (left <= 0) {
          stats.expiredPuts++
          return new HttpResponse('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 })
        }
        const body = new Uint8Array(await request.arrayBuffer())
        if (options.putDelayMs > 0) await delay(options.putDelayMs)
        const override = await options.onPut?.({ uploadId: String(params.id), partNumber, attempt, body, headers: request.headers })
        if (override) return override
        if (request.headers.get('content-md5') !== url.searchParams.get('md5')) {
          return new HttpResponse('<Error><Code>SignatureDoesNotMatch</Code></Error>', { status: 403 })
        }
        if (md5b64(body) !== url.searchParams.get('md5')) return new HttpResponse('<Error><Code>BadDigest</Code></Error>', { status: 400 })
        if (String(body.byteLength) !== url.searchParams.get('size')) return new HttpResponse('size', { status: 400 })
        const u = uploads.get(String(params.id))
        if (!u || u.deleted) return new HttpResponse('<Error><Code>NoSuchUpload</Code></Error>', { status: 404 })
        if (options.etagStyle !== 's3') {
          u.parts.set(partNumber, { size: body.byteLength, etag: md5b64(body) })
          const echo: Record<string, string> = options.etagStyle === 'azure' ? { 'Content-MD5': md5b64(body) } : {}
          return new HttpResponse(null, { status: 201, headers: { ...echo, 'x-ms-request-server-encrypted': 'true' } })
        }
        const etag = `"${md5hex(body)}"`
        u.parts.set(partNumber, { size: body.byteLength, etag })
        return new HttpResponse(null, { status: 200, headers: { ETag: etag } })
      } finally {
        stats.inFlight--
      }
    }),
  ]

  return { handlers, options, stats, uploads, md5hex }
}

/** Deterministic bytes, different per seed. */
export function testBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size)
  let x = seed * 2654435761
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}
