/**
 * The {@link RangeFetcher} port in Node: node:http(s) on keep-alive agents, the body handed on
 * chunk by chunk with backpressure (the socket is paused while a chunk is written), so memory
 * stays at a few chunks per GET whatever the range size. With a proxy variable set, axios's Node
 * adapter sends them instead (it applies the proxy settings), still streamed.
 */
import http, { type Agent as HttpAgent } from 'node:http'
import https, { type Agent as HttpsAgent } from 'node:https'
import type { Readable } from 'node:stream'
import type { AxiosStatic } from 'axios'
import { ValetError, isValetError } from '@valet/protocol'
import { safeUrl } from '../http/safe-url.js'
import { proxyConfigured } from './node-adapter.js'
import type { RangeFetcher, RangeGetRequest, RangeGetResponse } from '../download/download-ports.js'

const USER_AGENT = `valet-client (node ${process.version})`

function lowerCase(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  return out
}

function networkError(req: RangeGetRequest, e: unknown): ValetError {
  const message = (e as Error)?.message ?? String(e)
  const code = (e as { code?: unknown })?.code
  // Not the error itself: the signed URL must not reach logs through its cause chain.
  const cause = Object.assign(new Error(message), code === undefined ? {} : { code })
  return new ValetError('network_error', `GET ${safeUrl(req.url)} failed: ${message}`, { cause, context: { url: safeUrl(req.url), code } })
}

let axiosLoaded: Promise<AxiosStatic> | undefined

/**
 * With a proxy variable set, GETs go through axios's own Node adapter (loaded then), which
 * applies `http_proxy`/`https_proxy`/`no_proxy` as uploads do; the body still streams.
 */
async function viaProxy(req: RangeGetRequest, agents: { http: HttpAgent; https: HttpsAgent }): Promise<RangeGetResponse> {
  axiosLoaded ??= import('axios').then((m) => m.default)
  const axios = await axiosLoaded
  let res: { status: number; headers: unknown; data: Readable }
  try {
    res = await axios.request({
      url: req.url,
      method: 'GET',
      headers: { 'User-Agent': USER_AGENT, ...req.headers },
      responseType: 'stream',
      signal: req.signal,
      validateStatus: () => true,
      maxRedirects: 0,
      decompress: false,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    })
  } catch (e) {
    if (req.signal.aborted) throw req.signal.reason
    throw networkError(req, e)
  }
  const headers = lowerCase(Object.fromEntries(Object.entries(res.headers as Record<string, unknown>).map(([k, v]) => [k, v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(String) : String(v)])))
  try {
    if (res.status < 200 || res.status >= 300) {
      let text = ''
      for await (const chunk of res.data) if (text.length < 64 * 1024) text += String(chunk)
      return { status: res.status, headers, body: text }
    }
    for await (const chunk of res.data) await req.onChunk(chunk as Buffer)
    return { status: res.status, headers, body: '' }
  } catch (e) {
    res.data.destroy()
    if (req.signal.aborted) throw req.signal.reason
    throw isValetError(e) ? e : networkError(req, e)
  }
}

/** @param agents - keep-alive pools; a range GET goes to the URL it was signed for (no redirects). */
export function nodeRangeFetcher(agents: { http: HttpAgent; https: HttpsAgent }): RangeFetcher {
  return {
    get(req) {
      if (proxyConfigured()) return viaProxy(req, agents)
      return new Promise<RangeGetResponse>((resolve, reject) => {
        if (req.signal.aborted) return reject(req.signal.reason)
        const url = new URL(req.url)
        const headers = { 'User-Agent': USER_AGENT, ...req.headers }
        let settled = false
        const fail = (e: unknown): void => {
          if (settled) return
          settled = true
          request.destroy()
          if (req.signal.aborted) reject(req.signal.reason)
          else reject(isValetError(e) ? e : networkError(req, e))
        }
        const onAbort = (): void => fail(req.signal.reason)
        req.signal.addEventListener('abort', onAbort, { once: true })
        const request = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers, agent: url.protocol === 'https:' ? agents.https : agents.http }, (res) => {
          const status = res.statusCode ?? 0
          const resHeaders = lowerCase(res.headers)
          const finish = (body: string): void => {
            if (settled) return
            // The socket closed before the whole body came: that is a network failure, not an end.
            if (!res.complete) return fail(new Error('the connection closed before the body ended'))
            settled = true
            req.signal.removeEventListener('abort', onAbort)
            resolve({ status, headers: resHeaders, body })
          }
          res.on('error', fail)
          res.on('aborted', () => fail(new Error('the connection closed before the body ended')))
          if (status < 200 || status >= 300) {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => (text.length < 64 * 1024 ? (text += chunk) : undefined))
            res.on('end', () => finish(text))
            return
          }
          // 'end' comes only after every 'data', but the last chunk's write may still be running.
          let lastWrite: Promise<void> = Promise.resolve()
          res.on('data', (chunk: Buffer) => {
            let pending: void | Promise<void>
            try {
              pending = req.onChunk(chunk)
            } catch (e) {
              return fail(e)
            }
            if (pending === undefined) return
            res.pause()
            lastWrite = pending.then(
              () => {
                if (!settled) res.resume()
              },
              (e: unknown) => fail(e),
            )
          })
          res.on('end', () => {
            void lastWrite.then(() => finish(''))
          })
        })
        request.on('error', fail)
        request.end()
      })
    },
  }
}
