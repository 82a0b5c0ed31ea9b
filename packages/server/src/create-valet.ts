import { ValetError } from '@valet/protocol'
import { abortUpload, listParts } from './list-parts.js'
import { completeBatch, createBatch } from './batch.js'
import { completeUpload } from './complete-upload.js'
import { createUpload } from './create-upload.js'
import { preflight, withCors } from './cors.js'
import { errorResponse, requireJson } from './http.js'
import { normalizeOptions, type NormalizedOptions, type ValetOptions } from './options.js'
import { signParts } from './sign-parts.js'
import { openDownload } from './open-download.js'
import { signRanges } from './sign-ranges.js'
import { TokenSigner } from './token.js'
import { UniqueIds } from './unique-ids.js'
import type { RouteContext } from './context.js'
import type { CompleteUploadResponse } from '@valet/protocol'
import { wellFormed, type Principal } from './object-key.js'
import type { Operation } from './rate-limit.js'

/** The key endpoint: one Web-standard handler, mountable under any base path. */
export interface Valet {
  fetch(request: Request): Promise<Response>
}

type Handler = <P extends Principal>(ctx: RouteContext<P>) => Promise<Response>
/** `operation` is what `rateLimit` is asked about; batch routes ask once per item instead. */
type Route = { method: string; operation: Operation | undefined; handler: Handler }

// Routes match the end of the path, so the handler needs no base-path option.
const UPLOADS = /\/uploads\/?$/
const UPLOAD = /\/uploads\/([^/]+)\/?$/
const PARTS = /\/uploads\/([^/]+)\/parts\/?$/
const COMPLETE = /\/uploads\/([^/]+)\/complete\/?$/
// Before the upload routes: `batch` is never an upload id.
const BATCH = /\/uploads\/batch\/?$/
const BATCH_COMPLETE = /\/uploads\/batch\/complete\/?$/
const DOWNLOADS = /\/downloads\/?$/
const RANGES = /\/downloads\/ranges\/?$/

const routes: [RegExp, Route[]][] = [
  [BATCH_COMPLETE, [{ method: 'POST', operation: undefined, handler: completeBatch }]],
  [BATCH, [{ method: 'POST', operation: undefined, handler: createBatch }]],
  [PARTS, [{ method: 'POST', operation: 'sign', handler: signParts }, { method: 'GET', operation: 'list', handler: listParts }]],
  [COMPLETE, [{ method: 'POST', operation: 'complete', handler: completeUpload }]],
  [UPLOAD, [{ method: 'DELETE', operation: 'abort', handler: abortUpload }]],
  [UPLOADS, [{ method: 'POST', operation: 'create', handler: createUpload }]],
  [RANGES, [{ method: 'POST', operation: 'read', handler: signRanges }]],
  [DOWNLOADS, [{ method: 'POST', operation: 'download', handler: openDownload }]],
]

function match(pathname: string, method: string): { route: Route; uploadId: string } {
  for (const [pattern, candidates] of routes) {
    const m = pattern.exec(pathname)
    if (!m) continue
    const route = candidates.find((r) => r.method === method)
    if (!route) {
      throw new ValetError('method_not_allowed', `${method} is not allowed here; use ${candidates.map((r) => r.method).join(' or ')}`, {
        context: { allow: candidates.map((r) => r.method) },
      })
    }
    let uploadId = ''
    try {
      uploadId = m[1] ? decodeURIComponent(m[1]) : ''
    } catch {
      throw new ValetError('bad_request', 'upload id in the path is not valid percent-encoding')
    }
    return { route, uploadId }
  }
  throw new ValetError('not_found', `no Valet route for ${method} ${pathname}`)
}

/**
 * Creates the key endpoint.
 *
 * @example
 * ```ts
 * import { createValet } from '@valet/server'
 * import { s3 } from '@valet/server/s3'
 * const valet = createValet({
 *   storage: s3({ region: 'eu-west-1', bucket: 'uploads', credentials }),
 *   secret: process.env.VALET_SECRET!,
 *   authorize: async (request) => (await getSession(request))?.user ?? null,
 * })
 * export default { fetch: valet.fetch } // or mount with an adapter
 * ```
 */
export function createValet<P extends Principal = Principal>(options: ValetOptions<P>): Valet {
  return createValetWith(options, {})
}

/**
 * What in-process tests change beyond the public options: the server's clock (a skewed server)
 * and keys shorter than `keyTtl`'s whole seconds (a key's whole life within a unit test).
 */
export type ValetInternals = Partial<Pick<NormalizedOptions, 'now' | 'keyTtlMs'>>

/**
 * {@link createValet} with {@link ValetInternals}: for src/testing only, so neither is exported
 * from the package's entries.
 */
export function createValetWith<P extends Principal = Principal>(options: ValetOptions<P>, internals: ValetInternals): Valet {
  const normalized = normalizeOptions(options)
  normalized.now = internals.now ?? normalized.now
  normalized.keyTtlMs = internals.keyTtlMs ?? normalized.keyTtlMs
  const signer = new TokenSigner(normalized.secret)
  const uniqueIds = new UniqueIds(normalized.secret)
  const completions = new Map<string, Promise<CompleteUploadResponse>>()
  const { allowedOrigins } = normalized

  async function handle(request: Request): Promise<Response> {
    if (request.method === 'OPTIONS') return preflight(request, allowedOrigins)
    const { route, uploadId } = match(new URL(request.url).pathname, request.method)
    // Before authorize: a cross-site form or text/plain POST never reaches the app's session.
    if (request.method === 'POST') requireJson(request)
    const principal = await normalized.authorize(request)
    if (!principal) throw new ValetError('unauthorized', 'authentication required')
    if (typeof principal.id !== 'string' || principal.id === '' || !wellFormed(principal.id)) {
      throw new Error('authorize() must return a principal with a non-empty, well-formed string `id`')
    }
    const wait = route.operation === undefined ? undefined : await normalized.rateLimit?.({ principal, operation: route.operation, request })
    if (typeof wait === 'number' && wait > 0) {
      throw new ValetError('rate_limited', `too many ${route.operation} requests; retry in ${Math.ceil(wait)} s`, { context: { retryAfter: wait } })
    }
    const ctx: RouteContext<P> = { request, principal, options: normalized, signer, uniqueIds, uploadId, completions }
    return await route.handler(ctx)
  }

  return {
    async fetch(request: Request): Promise<Response> {
      let response: Response
      try {
        response = await handle(request)
      } catch (error) {
        response = errorResponse(error, (e) => normalized.onError(e, request))
        if (error instanceof ValetError && error.code === 'method_not_allowed' && error.context.allow) {
          response.headers.set('allow', error.context.allow.join(', '))
        }
      }
      return request.method === 'OPTIONS' ? response : withCors(response, request, allowedOrigins)
    },
  }
}
