/**
 * One HTTP exchange for `valet doctor`, on node:http(s) rather than fetch: storage sees exactly
 * the headers given (fetch adds its own: sec-fetch-mode, accept-encoding...), and the rate test
 * times a body upload the way the Node client sends one.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { HeaderMap } from './doctor-cors.js'

/** Answers are read up to this much: enough for any error document, never a whole object. */
const MAX_BODY_CHARS = 64 * 1024

export interface Exchange {
  /** 0 when there was no answer (`error` says why). */
  status: number
  headers: HeaderMap
  body: string
  /** `Date.now()` when the request was sent and when its answer was fully read (or it failed). */
  sentAt: number
  receivedAt: number
  /** `performance.now()` span of the whole exchange, ms. */
  elapsedMs: number
  error?: string
}

export interface ExchangeOptions {
  method: string
  headers?: Record<string, string>
  body?: Uint8Array | string
  timeoutMs: number
}

function flatten(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return code ? `${code}${message && !message.includes(code) ? ` (${message})` : ''}` : (message ?? String(error))
}

/**
 * Sends one request and resolves with its answer; never rejects (a network failure is status 0).
 *
 * @example
 * ```ts
 * const res = await exchange('https://bucket.s3.amazonaws.com/k', { method: 'OPTIONS', headers: { origin: 'https://app.test' }, timeoutMs: 10_000 })
 * ```
 */
export function exchange(url: string, options: ExchangeOptions): Promise<Exchange> {
  const sentAt = Date.now()
  const started = performance.now()
  const headers: Record<string, string> = { ...options.headers }
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  return new Promise((resolve) => {
    let settled = false
    const finish = (result: Omit<Exchange, 'sentAt' | 'receivedAt' | 'elapsedMs'>): void => {
      if (settled) return
      settled = true
      resolve({ ...result, sentAt, receivedAt: Date.now(), elapsedMs: performance.now() - started })
    }
    let target: URL
    try {
      target = new URL(url)
    } catch {
      finish({ status: 0, headers: {}, body: '', error: `not a URL: ${url}` })
      return
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    // A fresh connection per exchange (agent: false): no idle socket keeps the process alive, and
    // the rate test pays for connection setup as a browser's first part does.
    const req = send(target, { method: options.method, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY_CHARS) body += chunk
      })
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: flatten(res.headers), body: body.slice(0, MAX_BODY_CHARS) }))
      res.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: describe(error) }))
    })
    req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })))
    req.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: describe(error) }))
    req.end(options.body)
  })
}

/** S3's `<Code>` or Azure's `x-ms-error-code`, if the answer names one. */
export function storageErrorCode(answer: Exchange): string | undefined {
  return answer.headers['x-ms-error-code'] ?? /<Code>([^<]+)<\/Code>/.exec(answer.body)?.[1]
}

/** A key endpoint's `{ error: { code, message } }`, if the answer is one. */
export function valetError(answer: Exchange): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } }
    const { code, message } = parsed.error ?? {}
    return typeof code === 'string' ? { code, message: typeof message === 'string' ? message : '' } : undefined
  } catch {
    return undefined
  }
}
