/**
 * Test-only: the storage side of the fake Valet, as an msw handler. It takes the PUTs of the part
 * URLs the in-memory provider signs, checks them the way S3 does (key expiry on arrival, signed
 * Content-MD5, BadDigest, size) and stores the parts in that provider, where the real server's
 * list and complete find them. It counts what the tests assert on (PUTs, in flight, time left).
 */
import { createHash } from 'node:crypto'
import { http, HttpResponse, delay, type HttpHandler } from 'msw'
import { readMemoryPartUrl } from '../../../server/src/testing/memory-part-url.js'
import type { MemoryStorage } from '../../../server/src/testing/memory-storage.js'

export const STORAGE = 'http://127.0.0.1:9000/bucket'

export interface PutInfo {
  uploadId: string
  /** The object key the URL is signed for. */
  key: string
  partNumber: number
  /** 1 for the first PUT of this part, 2 for the next... */
  attempt: number
  body: Uint8Array
  headers: Headers
}

export interface FakeStorageOptions {
  /** How long storage takes to answer a PUT, ms. */
  putDelayMs: number
  /** 's3': `ETag: "hex md5"`; 'azure': no ETag, `Content-MD5` echoed (Put Block); 'azurite': neither. */
  etagStyle: 's3' | 'azure' | 'azurite'
  /** Return a response to answer a PUT with it instead of storing the part. */
  onPut?: (info: PutInfo) => Response | undefined | Promise<Response | undefined>
}

export interface StorageStats {
  /** PUTs per part number. */
  puts: Map<number, number>
  inFlight: number
  maxInFlight: number
  expiredPuts: number
  /** The least time any key had left when its PUT arrived, ms. */
  minTimeLeftMs: number
  putHeaders: Headers[]
}

export const storageStats = (): StorageStats => ({
  puts: new Map(), inFlight: 0, maxInFlight: 0, expiredPuts: 0, minTimeLeftMs: Number.POSITIVE_INFINITY, putHeaders: [],
})

export const md5hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')
const md5b64 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64')
const s3Error = (status: number, code: string, message = '') =>
  new HttpResponse(`<Error><Code>${code}</Code>${message && `<Message>${message}</Message>`}</Error>`, { status })

/** The PUT handler for `memory`'s part URLs (created with `baseUrl: STORAGE`), on the server's clock. */
export function fakeStorage(memory: MemoryStorage, options: FakeStorageOptions, stats: StorageStats, now: () => number): HttpHandler {
  /** Checks and stores one part the way S3 would; the caller has counted the PUT. */
  async function store(request: Request, arrival: number, attempt: number): Promise<Response> {
    const key = readMemoryPartUrl(STORAGE, request.url)
    if (!key) return s3Error(400, 'InvalidRequest', 'not a part URL')
    const left = key.expiresAt - arrival
    stats.minTimeLeftMs = Math.min(stats.minTimeLeftMs, left)
    if (left <= 0) {
      stats.expiredPuts++
      return s3Error(403, 'AccessDenied', 'Request has expired')
    }
    const body = new Uint8Array(await request.arrayBuffer())
    if (options.putDelayMs > 0) await delay(options.putDelayMs)
    const override = await options.onPut?.({ uploadId: key.uploadId, key: key.key, partNumber: key.partNumber, attempt, body, headers: request.headers })
    if (override) return override
    // The MD5 is signed into the key: a PUT without it, or with another, is not the signed request.
    if (request.headers.get('content-md5') !== key.md5) return s3Error(403, 'SignatureDoesNotMatch')
    if (md5b64(body) !== key.md5) return s3Error(400, 'BadDigest')
    if (body.byteLength !== key.size) return s3Error(400, 'IncompleteBody')
    if (key.uploadId.startsWith('single-')) {
      // A single PUT writes the object itself; write-once where the store is conditional.
      const etag = `"${md5hex(body)}"`
      if (!memory.putObject(key.key, key.uploadId, { size: body.byteLength, md5: md5b64(body), etag })) return s3Error(412, 'PreconditionFailed')
      return new HttpResponse(null, { status: 200, headers: { ETag: etag } })
    }
    const upload = memory.uploads.get(key.uploadId)
    if (!upload || upload.state !== 'open' || upload.key !== key.key) return s3Error(404, 'NoSuchUpload')
    if (options.etagStyle !== 's3') {
      memory.put(key.uploadId, { partNumber: key.partNumber, size: body.byteLength, etag: md5b64(body) })
      const echo: Record<string, string> = options.etagStyle === 'azure' ? { 'Content-MD5': md5b64(body) } : {}
      return new HttpResponse(null, { status: 201, headers: { ...echo, 'x-ms-request-server-encrypted': 'true' } })
    }
    const etag = `"${md5hex(body)}"`
    memory.put(key.uploadId, { partNumber: key.partNumber, size: body.byteLength, etag })
    return new HttpResponse(null, { status: 200, headers: { ETag: etag } })
  }

  return http.put(`${STORAGE}/*`, async ({ request }) => {
    const arrival = now()
    stats.inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
    try {
      const partNumber = Number(new URL(request.url).searchParams.get('partNumber'))
      const attempt = (stats.puts.get(partNumber) ?? 0) + 1
      stats.puts.set(partNumber, attempt)
      stats.putHeaders.push(request.headers)
      return await store(request, arrival, attempt)
    } finally {
      stats.inFlight--
    }
  })
}
