import { MAX_BODY_BYTES, ValetError, isValetError } from '@valet/protocol'

/** A body may take this long whatever its size; after it, it must keep {@link MIN_BODY_RATE}. */
export const BODY_GRACE_MS = 5_000
/** Bytes per second an arriving body must average once the grace period is over. */
export const MIN_BODY_RATE = 16 * 1024
/** No body takes longer than this, however fast it trickles. */
export const MAX_BODY_MS = 60_000

/**
 * Every POST must declare `application/json`. A browser sends a cross-origin POST with another
 * type (`text/plain`, a form) as a "simple request", without asking the server first; JSON makes
 * it ask (a CORS preflight), which only `allowedOrigins` pass. That is the CSRF defence.
 */
export function requireJson(request: Request): void {
  const type = request.headers.get('content-type')
  const essence = type?.toLowerCase().split(';')[0]!.trim()
  if (essence !== 'application/json') {
    throw new ValetError('unsupported_media_type', `a ${request.method} to the key endpoint must be sent as content-type application/json${type ? `, not ${type}` : ''}`, {
      context: { contentType: type },
    })
  }
}

function tooSlow(received: number, elapsed: number): ValetError {
  return new ValetError('request_timeout', `request body too slow: ${received} bytes in ${Math.round(elapsed / 1000)} s`, {
    context: { received, elapsedMs: elapsed },
  })
}

/**
 * Reads a JSON body of at most `limit` bytes without buffering more than that, and cuts a body
 * that trickles: after {@link BODY_GRACE_MS} it must have averaged {@link MIN_BODY_RATE}, and it
 * never takes more than {@link MAX_BODY_MS}. So a client holding connections open with a byte
 * every few seconds is dropped before any storage call, while a large complete body on a slow
 * link (10,000 parts ≈ 550 KB) still arrives.
 */
export async function readJson(request: Request, limit = MAX_BODY_BYTES, now: () => number = Date.now): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) throw new ValetError('payload_too_large', `request body exceeds ${limit} bytes`)
  if (!request.body) throw new ValetError('bad_request', 'request body must be JSON')
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  const start = now()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    for (;;) {
      const deadline = start + Math.min(MAX_BODY_MS, Math.max(BODY_GRACE_MS, (total / MIN_BODY_RATE) * 1000))
      const wait = deadline - now()
      if (wait <= 0) throw tooSlow(total, now() - start)
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), wait)
      })
      const next = await Promise.race([reader.read(), late])
      clearTimeout(timer)
      if (next === 'late') throw tooSlow(total, now() - start)
      if (next.done) break
      total += next.value.byteLength
      if (total > limit) throw new ValetError('payload_too_large', `request body exceeds ${limit} bytes`)
      chunks.push(next.value)
    }
  } catch (error) {
    clearTimeout(timer)
    await reader.cancel().catch(() => {})
    throw error
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) {
    bytes.set(c, offset)
    offset += c.byteLength
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (cause) {
    throw new ValetError('bad_request', 'request body is not valid JSON', { cause })
  }
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  })
}

/** Turns any thrown value into the protocol's error response; unexpected errors become a 500. */
export function errorResponse(error: unknown, onUnexpected: (error: unknown) => void): Response {
  if (isValetError(error) && error.code !== 'invalid_option') {
    const response = json(error.toJSON(), error.status)
    if (error.code === 'rate_limited' && typeof error.context.retryAfter === 'number') {
      response.headers.set('retry-after', String(Math.ceil(error.context.retryAfter)))
    }
    // The body was left unread: don't keep the connection for whatever the client sends next.
    if (error.code === 'request_timeout' || error.code === 'payload_too_large') response.headers.set('connection', 'close')
    return response
  }
  onUnexpected(error)
  return json({ error: { code: 'internal_error', message: 'internal error' } }, 500)
}
