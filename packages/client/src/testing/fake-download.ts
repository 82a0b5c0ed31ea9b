/**
 * Test-only: the download engine's world in memory. Objects with an ETag and what storage
 * recorded about them; a key endpoint that opens them and signs range keys (URLs naming the
 * range, the ETag and an expiry, as real read keys bind them); a fetcher that answers those keys
 * as storage does (412 on another version, 403 once expired, 206 with `Content-Range`) and lets a
 * test fault any GET; staging that outlives a run, as a file or OPFS does.
 */
import { createHash } from 'node:crypto'
import { ValetError, type ByteRange, type DownloadIntegrity, type OpenDownloadResponse, type SignedRange } from '@valet/protocol'
import type { DownloadSink, Md5Stream, PreparedDestination, RangeFetcher, RangeGetRequest, RangeGetResponse } from '../download/download-ports.js'

export const md5b64 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64')

export function md5Stream(): Promise<Md5Stream> {
  const hash = createHash('md5')
  return Promise.resolve({ update: (b) => void hash.update(b), digest: () => hash.digest('base64') })
}

export interface FakeObject {
  bytes: Uint8Array
  etag: string
  integrity: DownloadIntegrity
}

/** An object as a Valet multipart upload leaves it: part MD5s and an S3-style multipart ETag. */
export function multipartObject(bytes: Uint8Array, partSize: number, version = 1): FakeObject {
  const parts: { partNumber: number; size: number; md5: string }[] = []
  const raw: Buffer[] = []
  for (let at = 0, n = 1; at < bytes.byteLength; at += partSize, n++) {
    const part = bytes.subarray(at, Math.min(bytes.byteLength, at + partSize))
    parts.push({ partNumber: n, size: part.byteLength, md5: md5b64(part) })
    raw.push(createHash('md5').update(part).digest())
  }
  const etag = `"${createHash('md5').update(Buffer.concat(raw)).digest('hex')}-${parts.length}"`
  void version
  return { bytes, etag, integrity: { kind: 'parts', partSize, parts } }
}

/** A GET as the fake storage saw it; `fault` lets a test answer it instead. */
export interface FakeGet {
  key: string
  range: ByteRange
  attempt: number
}

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'truncate' }
  | { kind: 'flip' }
  | { kind: 'reset' }
  /** Swap the object before answering (a replacement landing mid-download). */
  | { kind: 'replace'; with: FakeObject }

export function fakeDownloadWorld(options: { keyTtlMs?: number; chunk?: number } = {}) {
  const objects = new Map<string, FakeObject>()
  const gets: FakeGet[] = []
  const attempts = new Map<string, number>()
  const staging = new Map<string, Uint8Array>()
  /** Range starts staging has lost (cleared site data): `holds` says so. */
  const lost = new Set<number>()
  let opens = 0
  let signCalls = 0
  let tokenSerial = 0
  const expiredTokens = new Set<string>()
  let fault: (get: FakeGet) => Fault | undefined = () => undefined
  const keyTtlMs = options.keyTtlMs ?? 60_000

  const api = {
    async openDownload(key: string): Promise<OpenDownloadResponse> {
      opens++
      const o = objects.get(key)
      if (o === undefined) throw new ValetError('object_not_found', `no object "${key}"`)
      const token = `d1.${++tokenSerial}.${key}`
      return { key, size: o.bytes.byteLength, etag: o.etag, type: 'application/octet-stream', token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), integrity: o.integrity }
    },
    async signRanges(token: string, ranges: ByteRange[]) {
      signCalls++
      if (expiredTokens.has(token)) throw new ValetError('token_expired', 'the download token expired')
      const key = token.split('.').slice(2).join('.')
      const o = objects.get(key)
      if (o === undefined) throw new ValetError('object_not_found', 'gone')
      const now = Date.now()
      const signed: SignedRange[] = ranges.map((r) => ({
        ...r,
        method: 'GET',
        url: `http://storage.test/${encodeURIComponent(key)}?start=${r.start}&end=${r.end}&exp=${now + keyTtlMs}`,
        headers: { 'If-Match': o.etag },
        expiresAt: new Date(now + keyTtlMs).toISOString(),
      }))
      return { ranges: signed, timing: { sentAt: now, receivedAt: now, serverTime: now } }
    },
  }

  const respond = (status: number, body = '', headers: Record<string, string> = {}): RangeGetResponse => ({ status, headers, body })

  const fetcher: RangeFetcher = {
    async get(req: RangeGetRequest): Promise<RangeGetResponse> {
      if (req.signal.aborted) throw req.signal.reason
      const url = new URL(req.url)
      const key = decodeURIComponent(url.pathname.slice(1))
      const range = { start: Number(url.searchParams.get('start')), end: Number(url.searchParams.get('end')) }
      const id = `${key}@${range.start}`
      const attempt = (attempts.get(id) ?? 0) + 1
      attempts.set(id, attempt)
      const get = { key, range, attempt }
      gets.push(get)
      const f = fault(get)
      if (f?.kind === 'replace') objects.set(key, f.with)
      if (Number(url.searchParams.get('exp')) <= Date.now()) return respond(403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')
      if (f?.kind === 'status') return respond(f.status, f.body ?? '', f.headers)
      if (f?.kind === 'reset') throw new ValetError('network_error', 'socket hang up')
      const o = objects.get(key)
      if (o === undefined) return respond(404)
      if (req.headers['If-Match'] !== o.etag) return respond(412, 'PreconditionFailed')
      let body = o.bytes.slice(range.start, range.end)
      if (f?.kind === 'flip') body[body.byteLength >> 1] = (body[body.byteLength >> 1] as number) ^ 0xff
      if (f?.kind === 'truncate') body = body.subarray(0, body.byteLength >> 1)
      const step = options.chunk ?? 4096
      for (let at = 0; at < body.byteLength; at += step) {
        if (req.signal.aborted) throw req.signal.reason
        await req.onChunk(body.subarray(at, at + step))
        await new Promise((r) => setImmediate(r))
      }
      if (f?.kind === 'truncate') throw new ValetError('network_error', 'the connection closed before the body ended')
      return respond(206, '', { etag: o.etag, 'content-range': `bytes ${range.start}-${range.end - 1}/${o.bytes.byteLength}` })
    },
  }

  /** Staging in memory, kept per fingerprint across runs like a partial file. */
  const destination = (name = 'out.bin'): PreparedDestination & { result?: Uint8Array } => {
    const prepared: PreparedDestination & { result?: Uint8Array } = {
      id: `mem:${name}`,
      async open(plan) {
        let bytes = plan.resume ? staging.get(plan.fingerprint) : undefined
        const resumed = bytes !== undefined && bytes.byteLength === plan.size
        if (!resumed) {
          bytes = new Uint8Array(plan.size)
          staging.set(plan.fingerprint, bytes)
        }
        const buf = bytes as Uint8Array
        const sink: DownloadSink = {
          resumed,
          async writer(start) {
            let at = start
            return {
              write: async (chunk) => {
                buf.set(chunk, at)
                at += chunk.byteLength
              },
              commit: async () => {},
              discard: async () => {},
            }
          },
          async holds(start) {
            return !lost.has(start)
          },
          async *read(start, end) {
            yield buf.slice(start, end)
          },
          async finish() {
            prepared.result = buf.slice()
            staging.delete(plan.fingerprint)
            return { path: name }
          },
          async close() {},
          async discard() {
            staging.delete(plan.fingerprint)
          },
        }
        return sink
      },
    }
    return prepared
  }

  return {
    objects,
    gets,
    staging,
    lost,
    api,
    fetcher,
    destination,
    expireToken: (token: string) => expiredTokens.add(token),
    setFault: (f: (get: FakeGet) => Fault | undefined) => {
      fault = f
    },
    get opens() {
      return opens
    },
    get signCalls() {
      return signCalls
    },
  }
}
