/**
 * @module @valet/server/node — mounts the key endpoint on node:http and Express. It only
 * translates between Node's request/response and the Web `Request`/`Response` of `valet.fetch`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import type { Valet } from '../create-valet.js'

type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown }
type Next = (error?: unknown) => void

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

/** Writes a Web `Response` to a Node response, honouring backpressure. */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  const cookies = response.headers.getSetCookie()
  if (cookies.length) res.setHeader('set-cookie', cookies)
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value)
  })
  if (!response.body) {
    res.end()
    return
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) return
    if (!res.write(chunk)) await once(res, 'drain')
  }
  res.end()
}

/**
 * Adapts a Valet endpoint to a `(req, res, next?)` listener for node:http or Express.
 *
 * @example
 * ```ts
 * import http from 'node:http'
 * import { toNodeListener } from '@valet/server/node'
 * http.createServer(toNodeListener(valet)).listen(3000)
 * // Express: app.use('/api/valet', toNodeListener(valet))
 * ```
 */
export function toNodeListener(valet: Valet): (req: IncomingMessage, res: ServerResponse, next?: Next) => void {
  return (req, res, next) => {
    const controller = new AbortController()
    // The client went away before we answered: stop storage calls made on its behalf.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'))
    })
    let request: Request
    try {
      request = toWebRequest(req as NodeRequest, controller.signal)
    } catch (error) {
      if (next) return next(error)
      res.statusCode = 400
      res.end()
      return
    }
    valet
      .fetch(request)
      .then((response) => writeWebResponse(response, res))
      .catch((error: unknown) => {
        if (next) return next(error)
        if (!res.headersSent) res.statusCode = 500
        res.end()
      })
  }
}
