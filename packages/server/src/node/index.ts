/**
 * @module @valet/server/node — mounts the key endpoint on node:http and Express. It only
 * translates between Node's request/response and the Web `Request`/`Response` of `valet.fetch`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { Valet } from '../create-valet.js'
import { abortOnClose, toWebRequest } from './to-web-request.js'

export { toWebRequest } from './to-web-request.js'

type Next = (error?: unknown) => void

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
  const reader = response.body.getReader()
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    if (res.destroyed) {
      await reader.cancel()
      return
    }
    if (!res.write(next.value)) await once(res, 'drain')
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
    let request: Request
    try {
      request = toWebRequest(req, abortOnClose(res))
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
