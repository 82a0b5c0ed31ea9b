/**
 * @module @valet/server/hono — the key endpoint as a Hono handler or sub-app (Node, Bun, Deno,
 * Workers). Hono already speaks Web `Request`/`Response`: this only hands the request over.
 */
import { Hono, type Context } from 'hono'
import type { Valet } from '../create-valet.js'

/**
 * A Hono handler: `app.all('/api/valet/*', honoHandler(valet))`.
 *
 * @example
 * ```ts
 * app.all('/api/valet/*', honoHandler(valet))
 * ```
 */
export function honoHandler(valet: Valet): (c: Context) => Promise<Response> {
  return (c) => valet.fetch(c.req.raw)
}

/**
 * A Hono sub-app to mount with `app.route(prefix, honoValet(valet))`.
 *
 * @example
 * ```ts
 * const app = new Hono()
 * app.route('/api/valet', honoValet(valet))
 * export default app // Bun, Deno, Workers
 * ```
 */
export function honoValet(valet: Valet): Hono {
  const app = new Hono()
  app.all('/*', honoHandler(valet))
  return app
}
