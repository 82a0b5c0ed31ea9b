/**
 * A fault-injecting reverse proxy on 127.0.0.1 in front of one storage origin (Swift s3api or
 * Azurite), for failure-path tests of the upload client against real storage.
 *
 * Point the storage provider's `endpoint` at {@link FaultProxy.endpointFor}: presigned URLs then
 * name the proxy. Every request is forwarded to the target with the `Host` header the client
 * sent, unchanged: SigV4 signs `host`, so Swift verifies against the proxy's host:port, which is
 * what the server signed (an Azure SAS doesn't sign the host). Bodies stream both ways; only a
 * fault touches them, and none buffers a whole body.
 *
 * Faults are rules checked in order on every request; the first that fires decides:
 * ```ts
 * proxy.rules = [{ kind: 'status-503-retry-after', every: 3 }]        // every 3rd part PUT
 * proxy.rules = [{ kind: 'reset-mid-body', times: 4 }]                // the first 4 part PUTs
 * proxy.rules = [{ kind: 'stall', match: (r) => r.partNumber === 2 && r.attempt === 1 }]
 * ```
 * `match` defaults to "is a part PUT" (S3 `PUT ?partNumber=`, Azure `PUT ?comp=block`).
 *
 * It forwards any HTTP, so it also stands in front of a key endpoint (or a whole app: page,
 * bundle and `/api/valet`): match those calls with `classify` (key-calls.ts), e.g.
 * `{ kind: 'stall', match: (r) => classify(r.method, r.url) === 'sign' }`, and take the endpoint away
 * with the `outage` fault or {@link FaultProxy.down} (the port refuses connections meanwhile).
 *
 * The proxy's own answers (the status faults) carry no CORS headers unless `cors` is given: a
 * browser then sees them as network errors, as it would a storage error without CORS headers.
 *
 * What happened is counted in {@link FaultProxy.stats} (requests, faults injected, body bytes
 * received and forwarded per part number, one record per part PUT with its key's expiry and
 * arrival time), so tests assert on what crossed the wire, not on what the client says it did.
 *
 * Downloads (issue 16): a ranged GET with a read key (`Range` or `x-ms-range: bytes=a-b`, the
 * signature in the query) is a {@link
 * ProxiedRequest.isRangeGet}, recorded in `stats.gets` with its range, attempt and the bytes it
 * was sent; match it with {@link isRangeGet}. The request faults apply to it (`reset-mid-body`
 * resets it before storage sees it, status faults answer it, `stall` never answers), and three
 * faults act on the answer's body on its way back: `truncate-response`, `flip-response-byte`,
 * `stall-mid-response`. `responseBandwidth` throttles answer bodies as `bandwidth` does requests.
 */
import { once } from 'node:events'
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { decodeBlockId } from '../../packages/server/src/azure/block-id.js'

export type FaultKind =
  /**
   * Forward about half the request body to storage, then reset both connections; no answer.
   * A request without a body is reset before anything is forwarded.
   */
  | 'reset-mid-body'
  /** Read the body, answer 500 InternalError; storage never sees the request. */
  | 'status-500'
  /** Read the body, answer 503 SlowDown with `Retry-After: 1`. */
  | 'status-503-retry-after'
  /** Read the body, answer 429 with `Retry-After: 1`. */
  | 'status-429-retry-after'
  /** Read the body, never answer, until the client gives up (or the proxy closes). */
  | 'stall'
  /** Flip one byte in the middle of the body on its way to storage (Content-MD5 makes storage refuse it). */
  | 'flip-bytes'
  /** Forward, then answer with a wrong `ETag` (S3) or a wrong `Content-MD5` (Azure, which echoes it). */
  | 'wrong-etag'
  /** Forward, so storage stores the part, then reset the client connection instead of answering. */
  | 'drop-response'
  /**
   * The server behind the proxy goes away: this connection and every open one are cut, and the
   * port refuses connections for the rule's `outageMs` (default 5 s); then it listens again.
   */
  | 'outage'
  /** Forward, send storage's status and headers (its Content-Length too) and half the answer's body, then reset the connection. */
  | 'truncate-response'
  /** Forward, flipping one byte in the middle of the answer's body on its way to the client. */
  | 'flip-response-byte'
  /** Forward the status, headers and half the answer's body, then send nothing more until the client gives up (or the proxy closes). */
  | 'stall-mid-response'

export const FAULT_KINDS: readonly FaultKind[] = [
  'reset-mid-body',
  'status-500',
  'status-503-retry-after',
  'status-429-retry-after',
  'stall',
  'flip-bytes',
  'wrong-etag',
  'drop-response',
  'outage',
  'truncate-response',
  'flip-response-byte',
  'stall-mid-response',
]

/** What the proxy knows about a request when it arrives (what rules match on). */
export interface ProxiedRequest {
  /** 1-based, over every request this proxy has seen. */
  index: number
  method: string
  /** Path and query as received. */
  url: string
  headers: IncomingHttpHeaders
  /** S3 `PUT ?partNumber=N&uploadId=` or Azure `PUT ?comp=block&blockid=` (part number decoded from the block id). */
  isPartPut: boolean
  partNumber: number | undefined
  /**
   * Part PUTs: 1 for the first PUT of this part of this upload, 2 for the next... Range GETs: the
   * same per object path and range. 0 otherwise.
   */
  attempt: number
  /** A GET with a read key in its query (S3 presigned, Azure SAS) and `Range` / `x-ms-range: bytes=a-b`: a download's range. */
  isRangeGet: boolean
  /** A range GET's range, `end` exclusive. */
  range: { start: number; end: number } | undefined
  /** `Date.now()` when the request's headers arrived. */
  arrivedAt: number
  /** When the request's valet key stops being accepted (`X-Amz-Date` + `X-Amz-Expires`, or SAS `se`), ms. */
  keyExpiresAt: number | undefined
  /** Declared `Content-Length`, if any. */
  contentLength: number | undefined
}

export interface FaultRule {
  kind: FaultKind
  /** Which requests the rule applies to. @default part PUTs */
  match?: (request: ProxiedRequest) => boolean
  /** Fire on every k-th matching request only (the k-th, 2k-th...). @default 1 */
  every?: number
  /** Fire at most this many times. @default unlimited */
  times?: number
  /** `outage` only: how long the port refuses connections, ms. @default 5000 */
  outageMs?: number
}

/** One `outage`: when the port closed and when it listened again (undefined while still down). */
export interface Outage {
  from: number
  to: number | undefined
}

/** One part PUT as the proxy saw it. */
export interface PartPutRecord {
  partNumber: number
  attempt: number
  arrivedAt: number
  keyExpiresAt: number | undefined
  fault: FaultKind | undefined
  /** Body bytes received from the client. */
  bytesIn: number
  /** Body bytes sent on to storage. */
  bytesForwarded: number
  /** Status storage answered (undefined: storage never answered, or was never asked). */
  storageStatus: number | undefined
  /** Status the client got (undefined: no answer, connection reset or stalled). */
  clientStatus: number | undefined
  /** `Date.now()` when the exchange ended: answered, reset, or the client gave up. */
  endedAt: number | undefined
}

/** One range GET as the proxy saw it. */
export interface RangeGetRecord {
  /** Object path as requested (no query). */
  path: string
  start: number
  /** Exclusive. */
  end: number
  attempt: number
  arrivedAt: number
  keyExpiresAt: number | undefined
  /** The `If-Match` the client sent. */
  ifMatch: string | undefined
  fault: FaultKind | undefined
  storageStatus: number | undefined
  /** Status the client got (undefined: no answer, reset or stalled before headers). */
  clientStatus: number | undefined
  /** Body bytes sent to the client. */
  bytesOut: number
  /** The whole answer reached the client. */
  delivered: boolean
  endedAt: number | undefined
}

export interface FaultProxyStats {
  requests: number
  /** TCP connections clients opened to the proxy: with keep-alive, far fewer than requests. */
  connections: number
  /** Of those, the ones that carried at least one part PUT (an upload client's, not a key server's). */
  partPutConnections: number
  partPuts: number
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>
  /** Part number → request body bytes received from the client, over all attempts. */
  bytesIn: Map<number, number>
  /** Part number → request body bytes forwarded to storage, over all attempts. */
  bytesForwarded: Map<number, number>
  parts: PartPutRecord[]
  /** Range GETs (downloads), in arrival order. */
  gets: RangeGetRecord[]
  outages: Outage[]
}

export interface FaultProxyOptions {
  /** Origin of the storage, e.g. `http://127.0.0.1:8080` (a path is ignored: request paths are kept). */
  target: string
  rules?: FaultRule[]
  /**
   * Bytes per second for all request bodies together (a shared slow uplink), or undefined for
   * no limit. Headers are forwarded at once, so storage sees a request when the proxy does.
   */
  bandwidth?: number
  /** Bytes per second for all answer bodies together (a shared slow downlink), or undefined for no limit. */
  responseBandwidth?: number
  /**
   * CORS headers on the proxy's own answers (status faults, 502), for requests with an `Origin`:
   * `Access-Control-Allow-Origin` echoing it and `Access-Control-Expose-Headers` as given, as a
   * storage whose CORS rule allows the page would send them (AWS S3 does on its 5xx). Without
   * this option those answers have no CORS headers. Answers forwarded from the target keep the
   * target's own headers either way.
   */
  cors?: { exposeHeaders: string[] }
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']

function emptyStats(): FaultProxyStats {
  return {
    requests: 0,
    connections: 0,
    partPutConnections: 0,
    partPuts: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    bytesIn: new Map(),
    bytesForwarded: new Map(),
    parts: [],
    gets: [],
    outages: [],
  }
}

/** `20240101T120000Z` → ms. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return NaN
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

/** When the valet key on this URL expires, if it carries one. */
export function keyExpiry(query: URLSearchParams): number | undefined {
  const amzDate = query.get('X-Amz-Date')
  const amzExpires = query.get('X-Amz-Expires')
  if (amzDate !== null && amzExpires !== null) {
    const at = parseAmzDate(amzDate) + Number(amzExpires) * 1000
    return Number.isFinite(at) ? at : undefined
  }
  const se = query.get('se')
  if (se !== null) {
    const at = Date.parse(se)
    return Number.isFinite(at) ? at : undefined
  }
  return undefined
}

/** `bytes=a-b` → `{ start: a, end: b + 1 }`. */
function parseRange(value: string | string[] | undefined): { start: number; end: number } | undefined {
  const m = typeof value === 'string' ? /^bytes=(\d+)-(\d+)$/.exec(value.trim()) : null
  return m ? { start: Number(m[1]), end: Number(m[2]) + 1 } : undefined
}

/** Matches a download's range GETs (the rules' default is part PUTs). */
export const isRangeGet = (r: ProxiedRequest): boolean => r.isRangeGet

/** Shared bandwidth: each chunk reserves its transmission time on one timeline. */
class Throttle {
  private next = 0
  constructor(private readonly bytesPerSecond: number) {}
  async take(bytes: number): Promise<void> {
    const now = performance.now()
    this.next = Math.max(this.next, now) + (bytes / this.bytesPerSecond) * 1000
    const wait = this.next - now
    if (wait > 2) await new Promise((r) => setTimeout(r, wait))
  }
}

/** Splits chunks so a throttled stream moves in small steps (and a slow link looks slow to progress events). */
function* pieces(chunk: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < chunk.length; i += size) yield chunk.subarray(i, Math.min(i + size, chunk.length))
}

/** Resolves on 'drain', or when the stream is gone (so a writer never waits forever). */
function drained(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  if (stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      stream.removeListener('drain', done)
      stream.removeListener('close', done)
      stream.removeListener('error', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
    stream.on('error', done)
  })
}

const S3_ERRORS: Record<number, [string, string]> = {
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
  429: ['TooManyRequests', 'Please reduce your request rate.'],
}

export class FaultProxy {
  rules: FaultRule[]
  stats: FaultProxyStats = emptyStats()
  private readonly target: URL
  private readonly throttle: Throttle | undefined
  private readonly responseThrottle: Throttle | undefined
  private readonly server: Server
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 })
  private readonly sockets = new Set<Socket>()
  private putSockets = new WeakSet<Socket>()
  private readonly attempts = new Map<string, number>()
  private readonly fired = new Map<FaultRule, { seen: number; injected: number }>()
  private readonly cors: FaultProxyOptions['cors']
  private port = 0
  private closed = false
  /** The end of the outage in progress (resolves once listening again). */
  private outage: Promise<void> | undefined
  private outageTimer: ReturnType<typeof setTimeout> | undefined
  private endOutage: (() => void) | undefined

  constructor(options: FaultProxyOptions) {
    this.target = new URL(options.target)
    if (this.target.hostname !== '127.0.0.1') throw new Error('FaultProxy only forwards to 127.0.0.1')
    this.rules = options.rules ?? []
    this.cors = options.cors
    this.throttle = options.bandwidth === undefined ? undefined : new Throttle(options.bandwidth)
    this.responseThrottle = options.responseBandwidth === undefined ? undefined : new Throttle(options.responseBandwidth)
    this.server = createServer({ keepAlive: true }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // The proxy must never take the test process down; a broken exchange is just reset.
        console.error('[fault-proxy]', error)
        req.socket.destroy()
      })
    })
    this.server.on('connection', (socket) => {
      this.stats.connections++
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  /** Listens on 127.0.0.1 (a free port unless given); returns the proxy's origin. */
  async start(port = 0): Promise<string> {
    this.server.listen(port, '127.0.0.1')
    await once(this.server, 'listening')
    this.port = (this.server.address() as AddressInfo).port
    return this.origin
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** `endpoint` with its origin replaced by the proxy's (keeps Azurite's `/devstoreaccount1` path). */
  endpointFor(endpoint: string): string {
    const u = new URL(endpoint)
    return `${this.origin}${u.pathname.replace(/\/+$/, '')}`
  }

  /** Forgets counters and rule state (the rules themselves stay). */
  resetStats(): void {
    this.stats = emptyStats()
    this.putSockets = new WeakSet()
    this.attempts.clear()
    this.fired.clear()
  }

  /** Body bytes of part PUTs received from the client, all parts and attempts. */
  partBytesIn(): number {
    let sum = 0
    for (const n of this.stats.bytesIn.values()) sum += n
    return sum
  }

  /** Stops listening and destroys every open connection, stalled ones included. */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.outageTimer)
    this.endOutage?.()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    this.server.closeAllConnections()
    this.agent.destroy()
    await closed
  }

  /**
   * Takes the proxied server away for `ms`: every open connection is cut and the port refuses
   * connections (ECONNREFUSED), then it listens again on the same port. Resolves when it is
   * back; a call during an outage joins it.
   */
  down(ms: number): Promise<void> {
    if (this.outage !== undefined) return this.outage
    const record: Outage = { from: Date.now(), to: undefined }
    this.stats.outages.push(record)
    this.outage = (async () => {
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()))
      for (const socket of this.sockets) socket.destroy()
      this.server.closeAllConnections()
      await stopped
      await new Promise<void>((resolve) => {
        this.endOutage = resolve
        this.outageTimer = setTimeout(resolve, ms)
      })
      this.endOutage = undefined
      if (!this.closed) {
        this.server.listen(this.port, '127.0.0.1')
        await once(this.server, 'listening')
      }
      record.to = Date.now()
    })()
      .catch((error: unknown) => console.error('[fault-proxy] could not listen again after an outage', error))
      .finally(() => (this.outage = undefined))
    return this.outage
  }

  private describe(req: IncomingMessage): ProxiedRequest {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid')
    const q = url.searchParams
    const method = req.method ?? 'GET'
    let partNumber: number | undefined
    let upload = ''
    if (method === 'PUT' && q.has('partNumber') && q.has('uploadId')) {
      partNumber = Number(q.get('partNumber'))
      upload = q.get('uploadId')!
    } else if (method === 'PUT' && q.get('comp') === 'block' && q.has('blockid')) {
      const block = decodeBlockId(q.get('blockid')!)
      partNumber = block?.partNumber
      upload = `${url.pathname}:${block?.uploadHex ?? ''}`
    } else if (method === 'PUT' && (q.has('X-Amz-Signature') || q.has('sig')) && !url.pathname.includes('/.valet/')) {
      // A single-PUT upload's one PUT of the object with a valet key (S3 presigned, or an Azure
      // SAS): the client's part 1. The server's own writes are header-signed, never presigned.
      partNumber = 1
      upload = url.pathname
    }
    const isPartPut = partNumber !== undefined && Number.isInteger(partNumber) && partNumber > 0
    // A read key's GET: the signature in the query (S3 presigned, Azure SAS). The key server's own
    // reads through the proxy (manifests, properties) sign headers instead and are not counted.
    const keyed = q.has('X-Amz-Signature') || q.has('sig')
    const range = method === 'GET' && keyed ? parseRange(req.headers.range ?? req.headers['x-ms-range']) : undefined
    let attempt = 0
    if (isPartPut || range) {
      const id = isPartPut ? `${upload}#${partNumber}` : `GET ${url.pathname}#${range!.start}-${range!.end}`
      attempt = (this.attempts.get(id) ?? 0) + 1
      this.attempts.set(id, attempt)
    }
    const length = req.headers['content-length']
    return {
      index: ++this.stats.requests,
      method,
      url: req.url ?? '/',
      headers: req.headers,
      isPartPut,
      partNumber: isPartPut ? partNumber : undefined,
      attempt,
      isRangeGet: range !== undefined,
      range,
      arrivedAt: Date.now(),
      keyExpiresAt: keyExpiry(q),
      contentLength: length === undefined ? undefined : Number(length),
    }
  }

  private pick(request: ProxiedRequest): FaultRule | undefined {
    for (const rule of this.rules) {
      const matches = rule.match ? rule.match(request) : request.isPartPut
      if (!matches) continue
      const state = this.fired.get(rule) ?? { seen: 0, injected: 0 }
      this.fired.set(rule, state)
      state.seen++
      if (rule.every !== undefined && rule.every > 1 && state.seen % rule.every !== 0) continue
      if (rule.times !== undefined && state.injected >= rule.times) continue
      state.injected++
      return rule
    }
    return undefined
  }

  /** CORS headers for the proxy's own answers (see the `cors` option). */
  private corsHeaders(request: ProxiedRequest): Record<string, string> {
    const origin = request.headers.origin
    if (this.cors === undefined || origin === undefined) return {}
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers': this.cors.exposeHeaders.join(', '),
      vary: 'Origin',
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = this.describe(req)
    const rule = this.pick(request)
    const fault = rule?.kind
    if (fault !== undefined) this.stats.faults[fault]++
    let record: PartPutRecord | undefined
    if (request.isPartPut) {
      this.stats.partPuts++
      if (!this.putSockets.has(req.socket)) {
        this.putSockets.add(req.socket)
        this.stats.partPutConnections++
      }
      record = {
        partNumber: request.partNumber!,
        attempt: request.attempt,
        arrivedAt: request.arrivedAt,
        keyExpiresAt: request.keyExpiresAt,
        fault,
        bytesIn: 0,
        bytesForwarded: 0,
        storageStatus: undefined,
        clientStatus: undefined,
        endedAt: undefined,
      }
      this.stats.parts.push(record)
      const r = record
      res.once('close', () => (r.endedAt ??= Date.now()))
    }
    let get: RangeGetRecord | undefined
    if (request.isRangeGet) {
      const ifMatch = req.headers['if-match']
      get = {
        path: request.url.split('?')[0]!,
        ...request.range!,
        attempt: request.attempt,
        arrivedAt: request.arrivedAt,
        keyExpiresAt: request.keyExpiresAt,
        ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined,
        fault,
        storageStatus: undefined,
        clientStatus: undefined,
        bytesOut: 0,
        delivered: false,
        endedAt: undefined,
      }
      this.stats.gets.push(get)
      const g = get
      res.once('close', () => (g.endedAt ??= Date.now()))
      res.once('finish', () => {
        g.clientStatus ??= res.statusCode
        g.delivered = true
      })
    }
    const countIn = (n: number): void => {
      if (!record) return
      record.bytesIn += n
      this.stats.bytesIn.set(record.partNumber, (this.stats.bytesIn.get(record.partNumber) ?? 0) + n)
    }
    const countForwarded = (n: number): void => {
      if (!record) return
      record.bytesForwarded += n
      this.stats.bytesForwarded.set(record.partNumber, (this.stats.bytesForwarded.get(record.partNumber) ?? 0) + n)
    }
    res.on('finish', () => {
      if (record) record.clientStatus = res.statusCode
    })

    switch (fault) {
      case 'status-500':
      case 'status-503-retry-after':
      case 'status-429-retry-after': {
        if (!(await this.drain(req, countIn))) return
        const status = fault === 'status-500' ? 500 : fault === 'status-503-retry-after' ? 503 : 429
        const [code, message] = S3_ERRORS[status]!
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`
        res.writeHead(status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
          ...(status === 500 ? {} : { 'retry-after': '1' }),
          ...this.corsHeaders(request),
        })
        res.end(body)
        return
      }
      case 'stall':
        // Accepted: the body is read (so the client finishes sending), the answer never comes.
        await this.drain(req, countIn)
        return
      case 'outage':
        // Cuts this connection with the others; nothing reaches the server.
        void this.down(rule?.outageMs ?? 5000)
        return
      case 'reset-mid-body':
        // No body to cut in half (a GET, a DELETE): reset before the server sees anything.
        if (!(request.contentLength! > 0) && req.headers['transfer-encoding'] === undefined) {
          req.socket.destroy()
          return
        }
        await this.forward(req, res, request, fault, countIn, countForwarded, record, get)
        return
      default:
        await this.forward(req, res, request, fault, countIn, countForwarded, record, get)
    }
  }

  /** Reads and discards the body; false if the client went away first. */
  private async drain(req: IncomingMessage, countIn: (n: number) => void): Promise<boolean> {
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        for (const piece of pieces(chunk, 64 * 1024)) {
          await this.throttle?.take(piece.length)
          countIn(piece.length)
        }
      }
      return true
    } catch {
      return false
    }
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    request: ProxiedRequest,
    fault: FaultKind | undefined,
    countIn: (n: number) => void,
    countForwarded: (n: number) => void,
    record: PartPutRecord | undefined,
    get?: RangeGetRecord,
  ): Promise<void> {
    const headers: IncomingHttpHeaders = { ...req.headers }
    for (const h of HOP_BY_HOP) if (h !== 'transfer-encoding') delete headers[h]
    const upstream = httpRequest({
      host: this.target.hostname,
      port: this.target.port,
      method: request.method,
      path: request.url,
      headers, // includes the client's Host: what SigV4 signed
      setHost: false,
      agent: this.agent,
    })
    // Storage checks a key's expiry on arrival: let it see the request when the proxy does.
    upstream.flushHeaders()
    const response = new Promise<IncomingMessage | undefined>((resolve) => {
      upstream.once('response', resolve)
      upstream.once('error', () => resolve(undefined))
      upstream.once('close', () => resolve(undefined))
    })
    upstream.on('error', () => {})
    // The client went away (it aborted, or a fault reset it): storage must not finish the request.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })

    const half = Math.floor((request.contentLength ?? 0) / 2)
    let received = 0
    let flipped = false
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        for (let piece of pieces(chunk, 64 * 1024)) {
          await this.throttle?.take(piece.length)
          countIn(piece.length)
          if (fault === 'reset-mid-body' && received + piece.length >= half) {
            const head = piece.subarray(0, Math.max(0, half - received))
            if (head.length > 0 && !upstream.destroyed) {
              upstream.write(head)
              countForwarded(head.length)
            }
            // Give storage the bytes, then cut both sides: a client sees a reset, storage a truncated body.
            await new Promise((r) => setTimeout(r, 20))
            upstream.destroy()
            req.socket.destroy()
            return
          }
          if (fault === 'flip-bytes' && !flipped && received + piece.length > half) {
            piece = Buffer.from(piece) // a copy: never touch the client's buffer
            const at = half - received
            piece[at] = piece[at]! ^ 0xff
            flipped = true
          }
          received += piece.length
          if (upstream.destroyed) continue // storage answered early (e.g. 403): keep reading, answer below
          countForwarded(piece.length)
          if (!upstream.write(piece)) await drained(upstream)
        }
      }
    } catch {
      upstream.destroy() // the client went away mid-body
      return
    }
    if (!upstream.destroyed) upstream.end()
    const upstreamRes = await response
    if (upstreamRes === undefined) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'text/plain', ...this.corsHeaders(request) })
        res.end('fault-proxy: storage did not answer')
      }
      return
    }
    if (record) record.storageStatus = upstreamRes.statusCode
    if (get) get.storageStatus = upstreamRes.statusCode
    if (fault === 'drop-response') {
      // Storage has the part; the client never learns it.
      upstreamRes.resume()
      await once(upstreamRes, 'end').catch(() => {})
      req.socket.destroy()
      return
    }
    const out: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(upstreamRes.headers)) {
      if (value !== undefined && !HOP_BY_HOP.includes(name)) out[name] = value
    }
    if (fault === 'wrong-etag') {
      if (out.etag !== undefined) out.etag = '"0123456789abcdef0123456789abcdef"'
      // Azure's Put Block has no ETag and echoes Content-MD5 instead: lie there.
      else out['content-md5'] = 'ASNFZ4mrze8BI0VniavN7w=='
    }
    res.writeHead(upstreamRes.statusCode ?? 502, out)
    if (get) get.clientStatus = res.statusCode
    const length = Number(upstreamRes.headers['content-length'])
    const halfOut = Number.isFinite(length) ? Math.floor(length / 2) : 0
    const responseFault = fault === 'truncate-response' || fault === 'stall-mid-response' || fault === 'flip-response-byte' ? fault : undefined
    let sent = 0
    let flippedOut = false
    const send = async (piece: Buffer): Promise<void> => {
      sent += piece.length
      if (get) get.bytesOut += piece.length
      if (!res.write(piece)) await drained(res)
    }
    try {
      for await (const chunk of upstreamRes as AsyncIterable<Buffer>) {
        for (let piece of this.responseThrottle || responseFault ? pieces(chunk, 64 * 1024) : [chunk]) {
          await this.responseThrottle?.take(piece.length)
          if (res.destroyed) break
          if ((responseFault === 'truncate-response' || responseFault === 'stall-mid-response') && sent + piece.length >= halfOut) {
            const head = piece.subarray(0, Math.max(0, halfOut - sent))
            if (head.length > 0) await send(head)
            upstreamRes.destroy()
            if (responseFault === 'truncate-response') {
              // Let the client have the bytes, then cut: it sees a body that ends early.
              await new Promise((r) => setTimeout(r, 20))
              req.socket.destroy()
            } else if (!res.destroyed) {
              // Nothing more until the client gives up (or the proxy closes).
              await once(res, 'close').catch(() => {})
            }
            return
          }
          if (responseFault === 'flip-response-byte' && !flippedOut && sent + piece.length > halfOut) {
            piece = Buffer.from(piece) // a copy: never touch storage's buffer
            const at = halfOut - sent
            piece[at] = piece[at]! ^ 0xff
            flippedOut = true
          }
          await send(piece)
        }
        if (res.destroyed) break
      }
      res.end()
    } catch {
      res.destroy()
    }
  }
}

/** Starts a proxy in front of `target`; `await proxy.close()` when done. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(options)
  await proxy.start()
  return proxy
}
