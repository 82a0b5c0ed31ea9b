/**
 * The one key server of the test suites: the real `createValet` + `toNodeListener` on node:http,
 * 127.0.0.1, a free port, mounted at `/api/valet` (and any further base paths), in front of any
 * storage provider (Swift s3api or Azurite from storages.ts, the in-memory provider). It logs
 * every call from its arrival to its connection closing, and can hold or fault a chosen call, so
 * a test can kill or abort a client while that call is in flight, or see it refused.
 *
 * A hold or fault sits either `before` the storage call (the request arrived, storage untouched)
 * or `after` it (storage carried it out, the client has not heard yet). The log reads a POST's
 * body before the endpoint does, so tests of hostile bodies (trickled, endless) mount the valet
 * themselves (test/security/requests.test.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { StorageProvider, Valet, ValetOptions } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { classify, type Fault, type HoldAt, type KeyCall, type Op } from './key-calls.js'
import { testValet } from './key-endpoint.js'

export type { Fault, HoldAt, KeyCall, Op } from './key-calls.js'

export interface Hold {
  /** Resolves with the call once it is being held. */
  reached: Promise<KeyCall>
  release(): void
}

/** One endpoint: its storage, createValet options over the kit's, and an answer rewrite. */
export interface Mount {
  storage: StorageProvider
  options?: Partial<ValetOptions>
  /** Rewrites a JSON answer before it leaves (e.g. to spoil one signed URL). */
  rewrite?: (path: string, method: string, body: unknown) => unknown
}

export interface KeyServerOptions {
  /** Base path of the first endpoint. @default '/api/valet' */
  base?: string
  /** Rewrite for the first endpoint's answers. */
  rewrite?: Mount['rewrite']
  /** More endpoints on the same server and call log, by base path. */
  mounts?: Record<string, Mount>
  /** Answers permissive CORS (preflights too), as an app serving pages on another origin would. */
  cors?: boolean
  /** Whatever is not under an endpoint's base path (a page, a bundle); default 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void
}

export interface KeyServer {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** `http://127.0.0.1:PORT/api/valet` (the first endpoint) */
  endpoint: string
  port: number
  /** The first endpoint's valet. */
  valet: Valet
  calls: KeyCall[]
  /** `onError` callbacks of createValet (e.g. a storage call aborted by a dead client). */
  errors: unknown[]
  /**
   * The calls of one kind (at one endpoint, if named) whose handler returned: a client that
   * exits with a key request in flight leaves it out, as its answer never counted.
   */
  of(op: Op, endpoint?: string): KeyCall[]
  /** Holds the next `op` call (at `endpoint`, if named) at `at` until released. */
  hold(op: Op, at: HoldAt, endpoint?: string): Hold
  /** Answers the next `times` `op` calls with `fault`, `before` storage (default) or `after` it. */
  fault(op: Op, fault: Fault, options?: { at?: HoldAt; times?: number }): void
  /** Every call so far has been answered (or cut off) and its handler has returned. */
  idle(): Promise<void>
  close(): Promise<void>
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return text
  }
}

const CALL_HEADER = 'x-key-server-call'

export async function startKeyServer(storage: StorageProvider, options: Partial<ValetOptions> = {}, kit: KeyServerOptions = {}): Promise<KeyServer> {
  const calls: KeyCall[] = []
  const errors: unknown[] = []
  const pending = new Set<Promise<void>>()
  const holds: { op: Op; at: HoldAt; endpoint?: string; reach: (c: KeyCall) => void; released: Promise<void> }[] = []
  const faults: { op: Op; fault: Fault; at: HoldAt; times: number }[] = []
  const sockets = new Map<number, ServerResponse>()
  const handlerDone = new Map<number, () => void>()

  const holdAt = async (call: KeyCall, at: HoldAt): Promise<void> => {
    const i = holds.findIndex((h) => h.op === call.op && h.at === at && (h.endpoint === undefined || h.endpoint === call.endpoint))
    if (i < 0) return
    const [hold] = holds.splice(i, 1)
    call.held = at
    hold!.reach(call)
    await hold!.released
  }
  /** The fault due for `call` at `at`, as the answer to send; a drop closes the socket. */
  const faultAt = (call: KeyCall, at: HoldAt): Response | undefined => {
    const i = faults.findIndex((f) => f.op === call.op && f.at === at)
    if (i < 0) return undefined
    const f = faults[i]!
    if (--f.times <= 0) faults.splice(i, 1)
    call.fault = f.fault
    if (f.fault === 'drop') {
      // Marked here: the adapter may still end the response on the dead socket before 'close'.
      call.cutOff = true
      sockets.get(call.seq)?.socket?.destroy()
      // What toNodeListener writes to a destroyed socket goes nowhere.
      return new Response(null, { status: 599 })
    }
    const body = { error: { code: f.fault.code ?? 'internal_error', message: `fault injected by the test (${f.fault.status})` } }
    return Response.json(body, { status: f.fault.status })
  }

  const endpointOf = (base: string, mount: Mount) => {
    // Logged in `errors` always; a suite's own onError (e.g. one expecting failures) replaces the log line.
    const own = mount.options?.onError
    const onError: ValetOptions['onError'] = (error, request) => {
      errors.push(error)
      if (own) own(error, request)
      else console.error(`[key server ${base}] unexpected`, error)
    }
    const valet = testValet(mount.storage, { ...mount.options, onError })
    const instrumented = {
      async fetch(request: Request): Promise<Response> {
        const call = calls[Number(request.headers.get(CALL_HEADER))]!
        try {
          // A body the adapter cut off (over the cap) is the endpoint's to answer, not the log's.
          const text = request.method === 'POST' ? await request.clone().text().catch(() => '') : ''
          call.request = parse(text)
          if (call.op === 'sign') call.parts = call.request?.parts?.map?.((p: { partNumber: number }) => p.partNumber)
          if (call.op === 'create' && typeof call.request?.requestId === 'string') call.requestId = call.request.requestId
          await holdAt(call, 'before')
          let response = faultAt(call, 'before') ?? (await valet.fetch(request))
          if (call.fault !== 'drop') call.status = response.status
          let body = parse(await response.clone().text())
          if (mount.rewrite && body !== undefined) {
            body = mount.rewrite(call.path, call.method, body)
            const headers = new Headers(response.headers)
            headers.delete('content-length')
            response = new Response(JSON.stringify(body), { status: response.status, headers })
          }
          call.response = body
          if ((call.op === 'create' || call.op === 'complete') && response.ok) {
            if (typeof call.response?.uploadId === 'string') call.uploadId = call.response.uploadId
            call.key = call.response?.key
          }
          await holdAt(call, 'after')
          response = faultAt(call, 'after') ?? response
          call.status = call.fault === 'drop' ? undefined : response.status
          call.ms = Date.now() - call.at
          return response
        } finally {
          call.handled = true
          handlerDone.get(call.seq)?.()
        }
      },
    }
    return { base, valet, listener: toNodeListener(instrumented) }
  }
  const base = kit.base ?? '/api/valet'
  const endpoints = [endpointOf(base, { storage, options, rewrite: kit.rewrite }), ...Object.entries(kit.mounts ?? {}).map(([b, m]) => endpointOf(b, m))]

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (kit.cors) {
      res.setHeader('access-control-allow-origin', req.headers.origin ?? '*')
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, DELETE', 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '' })
        res.end()
        return
      }
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const mounted = endpoints.find((e) => path === e.base || path.startsWith(`${e.base}/`))
    if (!mounted) {
      if (kit.fallback) return kit.fallback(req, res)
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n')
      return
    }
    const id = /\/uploads\/([^/]+)/.exec(path)?.[1]
    const user = req.headers['x-user']
    const call: KeyCall = {
      seq: calls.length,
      op: classify(req.method ?? 'GET', path),
      endpoint: mounted.base,
      method: req.method ?? 'GET',
      path,
      at: Date.now(),
      ...(id === undefined ? {} : { uploadId: decodeURIComponent(id) }),
      ...(typeof user === 'string' ? { user } : {}),
      handled: false,
      delivered: false,
      cutOff: false,
      closed: Promise.resolve(),
      settled: Promise.resolve(),
    }
    calls.push(call)
    sockets.set(call.seq, res)
    req.headers[CALL_HEADER] = String(call.seq)
    res.on('finish', () => (call.delivered = true))
    const handled = new Promise<void>((r) => handlerDone.set(call.seq, r))
    call.closed = new Promise<void>((r) =>
      res.on('close', () => {
        if (!res.writableFinished) call.cutOff = true
        r()
      }),
    )
    const settled = Promise.all([handled, call.closed]).then(() => {
      handlerDone.delete(call.seq)
      sockets.delete(call.seq)
      pending.delete(settled)
    })
    call.settled = settled
    pending.add(settled)
    mounted.listener(req, res)
  }

  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    endpoint: `${origin}${base}`,
    port,
    valet: endpoints[0]!.valet,
    calls,
    errors,
    of: (op, endpoint) => calls.filter((c) => c.handled && c.op === op && (endpoint === undefined || c.endpoint === endpoint)),
    hold(op, at, endpoint) {
      let reach!: (c: KeyCall) => void
      const reached = new Promise<KeyCall>((r) => (reach = r))
      let release!: () => void
      const released = new Promise<void>((r) => (release = r))
      holds.push({ op, at, endpoint, reach, released })
      return { reached, release }
    },
    fault(op, fault, { at = 'before', times = 1 } = {}) {
      faults.push({ op, fault, at, times })
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending])
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
