/**
 * @module @valet/server/next — Next.js App Router route handlers. Next passes Web `Request`s,
 * so each handler is `valet.fetch` itself.
 */
import type { Valet } from '../create-valet.js'

type RouteHandler = (request: Request) => Promise<Response>

/**
 * Route handlers for `app/api/valet/[...valet]/route.ts`.
 *
 * @example
 * ```ts
 * // app/api/valet/[...valet]/route.ts
 * import { toNextHandlers } from '@valet/server/next'
 * import { valet } from '@/lib/valet'
 * export const { GET, POST, DELETE } = toNextHandlers(valet)
 * export const runtime = 'nodejs' // the Azure provider's signing needs Node; S3 runs on edge too
 * ```
 */
export function toNextHandlers(valet: Valet): { GET: RouteHandler; POST: RouteHandler; DELETE: RouteHandler; OPTIONS: RouteHandler } {
  // Next calls handlers with (request, context); only the request matters to Valet.
  const handler: RouteHandler = (request) => valet.fetch(request)
  return { GET: handler, POST: handler, DELETE: handler, OPTIONS: handler }
}
