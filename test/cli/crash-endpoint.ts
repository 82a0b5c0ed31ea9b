/**
 * A key endpoint for crash tests: createValet + toNodeListener on node:http (127.0.0.1, free
 * port, mounted at /api/valet) that logs every call with what it did in storage, and can hold
 * the next call of a kind (a create or complete, say) so a test can SIGKILL or abort the client
 * while that call is in flight.
 *
 * A hold sits either `before` the storage call (the request arrived, storage untouched) or
 * `after` it (storage created / committed the upload, the client has not heard yet). It lasts
 * until the test releases it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createValet, type StorageProvider } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { SECRET } from '../support/key-endpoint.js'

export type Op = 'create' | 'sign' | 'list' | 'complete' | 'delete' | 'other'
export type HoldAt = 'before' | 'after'

export interface Call {
  seq: number
  op: Op
  /** From the path, or from the create response. */
  uploadId?: string
  /** Object key, from create and complete responses. */
  key?: string
  /** Part numbers a sign request asked keys for. */
  parts?: number[]
  /** The `requestId` a create carried. */
  requestId?: string
  /** The `x-user` header: which principal (and so which key prefix) the call is for. */
  user?: string
  arrivedAt: number
  /** HTTP status valet.fetch answered with (after storage), unset while in the handler. */
  status?: number
  /** Where the response was held, if it was. */
  held?: HoldAt
  /** The whole response went out to the socket ('finish'). */
  delivered: boolean
  /** The connection closed before the response went out (the client died). */
  cutOff: boolean
  /** Settles once the connection has closed (after the response, or because the client died). */
  closed: Promise<void>
  /** Settles once the handler returned and the connection is done with. */
  settled: Promise<void>
}

export interface Hold {
  /** Resolves with the call once it is being held. */
  reached: Promise<Call>
  release(): void
}

export interface CrashEndpoint {
  /** `http://127.0.0.1:PORT/api/valet` */
  endpoint: string
  calls: Call[]
  /** Unexpected-error callbacks of createValet (e.g. a storage call aborted by a dead client). */
  errors: unknown[]
  /** Holds the next `op` call at `at` until released. */
  hold(op: Op, at: HoldAt): Hold
  /** Every call so far has been answered (or cut off) and its handler has returned. */
  idle(): Promise<void>
  close(): Promise<void>
}

function operation(method: string, path: string): Op {
  if (method === 'POST' && /\/uploads\/?$/.test(path)) return 'create'
  if (method === 'POST' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'sign'
  if (method === 'GET' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'list'
  if (method === 'POST' && /\/uploads\/[^/]+\/complete$/.test(path)) return 'complete'
  if (method === 'DELETE' && /\/uploads\/[^/]+$/.test(path)) return 'delete'
  return 'other'
}

const CALL_HEADER = 'x-crash-test-call'

/** `authorize` uses the `x-user` header, or `defaultUser` (the CLI sends none unless told). */
export async function startCrashEndpoint(storage: StorageProvider, defaultUser: string): Promise<CrashEndpoint> {
  const calls: Call[] = []
  const errors: unknown[] = []
  const pending = new Set<Promise<void>>()
  const holds: { op: Op; at: HoldAt; reach: (c: Call) => void; released: Promise<void> }[] = []

  const valet = createValet({
    storage,
    secret: SECRET,
    authorize: (request) => ({ id: request.headers.get('x-user') ?? defaultUser }),
    onError: (error) => errors.push(error),
  })

  const handlerDone = new Map<number, () => void>()
  const instrumented = {
    async fetch(request: Request): Promise<Response> {
      const call = calls[Number(request.headers.get(CALL_HEADER))]!
      try {
        if (call.op === 'sign') {
          const body = (await request.clone().json().catch(() => undefined)) as { parts?: { partNumber: number }[] } | undefined
          call.parts = body?.parts?.map((p) => p.partNumber)
        }
        if (call.op === 'create') {
          const body = (await request.clone().json().catch(() => undefined)) as { requestId?: string } | undefined
          if (typeof body?.requestId === 'string') call.requestId = body.requestId
        }
        const i = holds.findIndex((h) => h.op === call.op)
        const hold = i >= 0 ? holds.splice(i, 1)[0] : undefined
        if (hold?.at === 'before') {
          call.held = 'before'
          hold.reach(call)
          await hold.released
        }
        const response = await valet.fetch(request)
        call.status = response.status
        if ((call.op === 'create' || call.op === 'complete') && response.ok) {
          const body = (await response.clone().json()) as { uploadId?: string; key?: string }
          if (body.uploadId) call.uploadId = body.uploadId
          call.key = body.key
        }
        if (hold?.at === 'after') {
          call.held = 'after'
          hold.reach(call)
          await hold.released
        }
        return response
      } finally {
        handlerDone.get(call.seq)?.()
      }
    },
  }
  const listener = toNodeListener(instrumented)

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const op = operation(req.method ?? 'GET', path)
    const id = /\/uploads\/([^/]+)/.exec(path)?.[1]
    const user = req.headers['x-user']
    const call: Call = {
      seq: calls.length,
      op,
      ...(id === undefined ? {} : { uploadId: decodeURIComponent(id) }),
      ...(typeof user === 'string' ? { user } : {}),
      arrivedAt: Date.now(),
      delivered: false,
      cutOff: false,
      closed: Promise.resolve(),
      settled: Promise.resolve(),
    }
    calls.push(call)
    req.headers[CALL_HEADER] = String(call.seq)
    res.on('finish', () => (call.delivered = true))
    const handled = new Promise<void>((r) => handlerDone.set(call.seq, r))
    const closed = new Promise<void>((r) =>
      res.on('close', () => {
        if (!res.writableFinished) call.cutOff = true
        r()
      }),
    )
    call.closed = closed
    const settled = Promise.all([handled, closed]).then(() => {
      handlerDone.delete(call.seq)
      pending.delete(settled)
    })
    call.settled = settled
    pending.add(settled)
    listener(req, res)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  return {
    endpoint: `http://127.0.0.1:${port}/api/valet`,
    calls,
    errors,
    hold(op, at) {
      let reach!: (c: Call) => void
      const reached = new Promise<Call>((r) => (reach = r))
      let release!: () => void
      const released = new Promise<void>((r) => (release = r))
      holds.push({ op, at, reach, released })
      return { reached, release }
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending])
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
