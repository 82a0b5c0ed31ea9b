/**
 * CORS in the core, so every adapter behaves the same: preflights are answered here, and CORS
 * headers are only ever set for origins the app listed. Same-origin pages need none of it.
 */
import { ValetError } from '@valet/protocol'
import { TOKEN_HEADER } from '@valet/protocol'

const METHODS = 'GET, POST, DELETE'
/** What a page may read from an answer: the client honours both. */
const EXPOSED = 'retry-after, allow'
const PREFLIGHT_MAX_AGE = '600'

function allowedOrigin(request: Request, allowed: ReadonlySet<string>): string | undefined {
  const origin = request.headers.get('origin')
  return origin !== null && allowed.has(origin) ? origin : undefined
}

/**
 * Answers an `OPTIONS` preflight: 204 with the CORS grant for a listed origin, 403 otherwise
 * (the browser then never sends the real request). It runs before `authorize`: preflights carry
 * no credentials.
 */
export function preflight(request: Request, allowed: ReadonlySet<string>): Response {
  const origin = allowedOrigin(request, allowed)
  if (origin === undefined) {
    const named = request.headers.get('origin')
    throw new ValetError(
      'forbidden',
      named === null
        ? 'OPTIONS is only answered as a CORS preflight (with an Origin header)'
        : `origin ${named} may not call this key endpoint: add it to createValet's allowedOrigins`,
      { context: { origin: named } },
    )
  }
  // The listed origin is trusted with whatever headers its page sends (an app's own auth header).
  const requested = request.headers.get('access-control-request-headers')
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': METHODS,
      'access-control-allow-headers': requested ?? `authorization, content-type, ${TOKEN_HEADER}`,
      'access-control-max-age': PREFLIGHT_MAX_AGE,
      vary: 'origin, access-control-request-headers',
    },
  })
}

/** Adds the CORS grant to an answer for a listed origin; anything else is left alone. */
export function withCors(response: Response, request: Request, allowed: ReadonlySet<string>): Response {
  response.headers.append('vary', 'origin')
  const origin = allowedOrigin(request, allowed)
  if (origin !== undefined) {
    response.headers.set('access-control-allow-origin', origin)
    response.headers.set('access-control-allow-credentials', 'true')
    response.headers.set('access-control-expose-headers', EXPOSED)
  }
  return response
}
