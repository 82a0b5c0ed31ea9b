/**
 * Node's request as a Web `Request`, for the adapters built on node:http (`node`, `fastify`).
 * Not a public entry: `@valet/server/node` re-exports `toWebRequest`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown }

/**
 * Builds a Web `Request` from a Node request. Works whether or not a body parser (Express's
 * `express.json()`) already consumed the body: a parsed body is serialized again.
 */
export function toWebRequest(req: NodeRequest, signal?: AbortSignal): Request {
  const host = req.headers.host ?? '127.0.0.1'
  const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
  // Express strips the mount path from req.url; originalUrl keeps it (routes match path ends anyway).
  const url = new URL(req.originalUrl ?? req.url ?? '/', `${protocol}://${host}`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const method = req.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal }
  if (method !== 'GET' && method !== 'HEAD') {
    // body-parser sets `_body` once it has read the stream; only then is `req.body` the payload
    // (Express 4 sets `req.body = {}` even when it left the stream alone).
    const consumed = req.readableEnded || (req as { _body?: boolean })._body === true
    if (consumed) {
      init.body =
        req.body === undefined ? '' : typeof req.body === 'string' ? req.body : req.body instanceof Uint8Array ? new Uint8Array(req.body) : JSON.stringify(req.body)
      headers.delete('content-length')
    } else {
      // Streamed, so the core's 1 MiB cap stops reading without buffering an oversized body.
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}

/**
 * A signal that aborts when the client goes away before the answer is written, so the core stops
 * the storage calls it was making on that client's behalf.
 */
export function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'))
  })
  return controller.signal
}
