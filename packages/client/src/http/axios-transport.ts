/**
 * The {@link Transport} port over axios: in Node with Valet's node:http adapter (node-adapter.ts:
 * streams the body and reports upload progress; Node's fetch buffered whole bodies and ran 6×
 * slower on loopback), in browsers with axios's XHR adapter (the only browser API with upload
 * progress).
 */
import type { AxiosAdapter, AxiosStatic, RawAxiosRequestHeaders } from 'axios'
import { ValetError, isValetError } from '@valet/protocol'
import type { HttpRequest, HttpResponse, Transport } from '../ports.js'
import { safeUrl } from './safe-url.js'

/** @typeParam B - the platform's part body. */
export interface AxiosTransportOptions<B> {
  /** The axios the platform loads: its entry decides which of axios's builds (and dependencies) load. */
  axios: Pick<AxiosStatic, 'create'>
  /** axios's adapter: Valet's node:http one in Node, 'xhr' in browsers. */
  adapter: 'xhr' | 'fetch' | AxiosAdapter
  /** Turns a part into what the adapter sends (Node: the file range or a Buffer view, no copy). */
  toBody: (body: B) => unknown
  /**
   * A part's byte length, sent as `Content-Length`: Node's http adapter can't know a stream's.
   * Absent in browsers, which refuse the header (they set it themselves).
   */
  contentLength?: (body: B) => number
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof headers !== 'object' || headers === null) return out
  const plain = typeof (headers as { toJSON?: unknown }).toJSON === 'function' ? (headers as { toJSON(): object }).toJSON() : headers
  for (const [k, v] of Object.entries(plain)) {
    if (v === undefined || v === null) continue
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
  }
  return out
}

function bodyError(e: unknown): ValetError | undefined {
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    if (isValetError(x)) return x
  }
  return undefined
}

export function createAxiosTransport<B>(options: AxiosTransportOptions<B>): Transport<B> {
  const client = options.axios.create({
    adapter: options.adapter,
    maxBodyLength: Number.POSITIVE_INFINITY,
    maxContentLength: Number.POSITIVE_INFINITY,
    // Bodies go out untouched and come back as text; the engine parses and classifies.
    transformRequest: [(data: unknown) => data],
    transformResponse: [(data: unknown) => data],
    responseType: 'text',
    validateStatus: () => true,
  })
  return {
    async request(req: HttpRequest<B>): Promise<HttpResponse> {
      const part = req.body === undefined || typeof req.body === 'string' ? undefined : { body: req.body }
      const binary = part !== undefined
      const headers: RawAxiosRequestHeaders = { ...req.headers }
      if (part !== undefined && options.contentLength) {
        for (const h of Object.keys(headers)) if (h.toLowerCase() === 'content-length') delete headers[h]
        headers['Content-Length'] = String(options.contentLength(part.body))
      }
      const { onUploadProgress } = req
      try {
        const res = await client.request({
          method: req.method,
          url: req.url,
          headers,
          data: part !== undefined ? options.toBody(part.body) : req.body,
          signal: req.signal,
          // A part must go to the URL it was signed for.
          ...(binary ? { maxRedirects: 0 } : {}),
          ...(onUploadProgress ? { onUploadProgress: (e: { loaded: number }) => onUploadProgress(e.loaded) } : {}),
        })
        return { status: res.status, headers: lowerCaseHeaders(res.headers), body: typeof res.data === 'string' ? res.data : '' }
      } catch (e) {
        if (req.signal.aborted) throw req.signal.reason
        // A streamed body that failed to read (a file that shrank) is the source's fault, not the
        // network's: retrying can't fix it.
        const own = bodyError(e)
        if (own !== undefined) throw own
        const message = (e as Error)?.message ?? String(e)
        const code = (e as { code?: unknown })?.code
        // Not the AxiosError itself: its config holds the authorization header and the signed
        // URL, and causes end up in logs.
        const cause = Object.assign(new Error(message), code === undefined ? {} : { code })
        throw new ValetError('network_error', `${req.method} ${safeUrl(req.url)} failed: ${message}`, {
          cause,
          context: { url: safeUrl(req.url), code },
        })
      }
    },
  }
}
