import { MAX_BODY_BYTES, ValetError, isValetError } from '@valet/protocol'

/** Reads a JSON body of at most `limit` bytes without buffering more than that. */
export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) throw new ValetError('payload_too_large', `request body exceeds ${limit} bytes`)
  if (!request.body) throw new ValetError('bad_request', 'request body must be JSON')
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => {})
      throw new ValetError('payload_too_large', `request body exceeds ${limit} bytes`)
    }
    chunks.push(value)
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
    return response
  }
  onUnexpected(error)
  return json({ error: { code: 'internal_error', message: 'internal error' } }, 500)
}
