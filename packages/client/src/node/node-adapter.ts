/**
 * axios's adapter in Node: node:http(s) on the uploader's keep-alive agents. axios's own Node
 * adapter module loads follow-redirects, form-data (with mime-db and ~30 small packages) and
 * https-proxy-agent, none of which an upload uses: ~8 MiB of RSS before the first byte. Valet
 * loads axios's self-contained build and hands it this adapter instead (see node-platform.ts).
 *
 * Proxies: with a proxy variable set (`http_proxy`, `HTTPS_PROXY`, `all_proxy`, npm's), requests
 * go through axios's own Node adapter, loaded then, which applies them (and `no_proxy`) as before.
 *
 * File parts are written from a few reused buffers, each taken back only when the socket's write
 * callback says it no longer holds it: a fresh buffer per chunk left 25–45 MiB of dead buffers
 * waiting for V8 to collect them during a 512 MiB upload.
 */
// Default imports, read at call time: interceptors (msw in tests, tracing) patch `http.request`.
import http, { type Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https, { type Agent as HttpsAgent } from 'node:https'
import { Readable } from 'node:stream'
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios'
import { FileRange } from './file-range.js'

/** Write size of a file part: few syscalls; its buffers are reused, so size costs no garbage. */
export const SEND_CHUNK = 256 * 1024
/** Writes of one part handed to its socket and not yet done. */
const DEPTH = 4
/** Spare write buffers kept between writes (4 MiB): enough for 4 parts in flight without new ones. */
const MAX_SPARE = 16
const spare: Buffer[] = []

// Named in storage and key-server logs, as axios's adapter named itself (`axios/1.x`).
const USER_AGENT = `valet-client (node ${process.version})`

// Key calls only (a part goes to the URL it was signed for): 307/308 keep the method and body.
const MAX_REDIRECTS = 5

interface Answer {
  status: number
  statusText: string
  headers: IncomingHttpHeaders
  text: string
  request: ClientRequest
}

// What proxy-from-env (axios's Node adapter) reads, lower and upper case.
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'npm_config_proxy', 'npm_config_http_proxy', 'npm_config_https_proxy']

export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name] || env[name.toUpperCase()]))
}

let axiosNodeAdapter: Promise<AxiosAdapter> | undefined

/** The request through axios's Node adapter, on the same agents; a file range as a stream. */
async function viaAxios(config: InternalAxiosRequestConfig, agents: { http: HttpAgent; https: HttpsAgent }): Promise<AxiosResponse> {
  axiosNodeAdapter ??= import('axios').then((m) => m.default.getAdapter('http'))
  const data = config.data instanceof FileRange ? Readable.from(config.data.chunks(), { objectMode: false }) : config.data
  return (await axiosNodeAdapter)({ ...config, data, httpAgent: agents.http, httpsAgent: agents.https })
}

export function nodeAdapter(agents: { http: HttpAgent; https: HttpsAgent }): AxiosAdapter {
  return async (config) => {
    if (proxyConfigured()) return viaAxios(config, agents)
    let url = new URL(config.url ?? '', config.baseURL)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(config.headers.toJSON())) {
      if (value !== undefined && value !== null) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
    }
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) headers['User-Agent'] = USER_AGENT
    const data: unknown = config.data
    const binary = data instanceof FileRange || data instanceof Uint8Array
    for (let hops = 0; ; hops++) {
      const answer = await send(url, headers, data, config, url.protocol === 'https:' ? agents.https : agents.http)
      const location = answer.headers.location
      if (binary || (answer.status !== 307 && answer.status !== 308) || location === undefined || hops >= MAX_REDIRECTS) {
        return {
          data: answer.text,
          status: answer.status,
          statusText: answer.statusText,
          headers: answer.headers,
          config,
          request: answer.request,
        } as AxiosResponse
      }
      const next = new URL(location, url)
      // Credentials are for the origin they were given to.
      if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (/^(authorization|cookie)$/i.test(name)) delete headers[name]
      url = next
    }
  }
}

function send(url: URL, headers: Record<string, string>, data: unknown, config: InternalAxiosRequestConfig, agent: HttpAgent): Promise<Answer> {
  const method = (config.method ?? 'get').toUpperCase()
  const progress = config.onUploadProgress
  return new Promise<Answer>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent, signal: config.signal as AbortSignal | undefined }, (res: IncomingMessage) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, text, request }))
      res.on('error', reject)
    })
    request.on('error', reject)
    if (data instanceof FileRange) {
      writeRange(request, data, progress).catch((e: unknown) => request.destroy(e as Error))
    } else if (data instanceof Uint8Array) {
      request.end(data, () => progress?.({ loaded: data.byteLength, bytes: data.byteLength, lengthComputable: true, upload: true }))
    } else {
      request.end(data === undefined || data === null ? undefined : String(data))
    }
  })
}

/**
 * Writes a file range with at most {@link DEPTH} writes outstanding. A buffer goes back to the
 * spares in its write callback only: until then the socket may still be sending from it.
 */
async function writeRange(request: ClientRequest, range: FileRange, progress: InternalAxiosRequestConfig['onUploadProgress']): Promise<void> {
  const closed = new Promise<void>((resolve) => request.once('close', resolve))
  const outstanding = new Set<Promise<void>>()
  let done = 0
  for (let at = range.start; at < range.end; ) {
    if (request.destroyed) return
    const want = Math.min(SEND_CHUNK, range.end - at)
    const buffer = spare.pop() ?? Buffer.allocUnsafe(SEND_CHUNK)
    let chunk: Buffer
    try {
      chunk = await range.readInto(buffer, at, want)
    } catch (e) {
      spare.push(buffer)
      throw e
    }
    at += want
    const written = new Promise<void>((resolve) => {
      request.write(chunk, (error) => {
        // A failed write's buffer is dropped, not reused: nothing to prove about who still holds it.
        if (!error) {
          if (spare.length < MAX_SPARE) spare.push(buffer)
          done += want
          progress?.({ loaded: done, total: range.size, bytes: want, lengthComputable: true, upload: true })
        }
        resolve()
      })
    })
    outstanding.add(written)
    void written.then(() => outstanding.delete(written))
    // A destroyed request may never call back: its buffers are then simply not reused.
    if (outstanding.size >= DEPTH) await Promise.race([...outstanding, closed])
  }
  if (!request.destroyed) request.end()
}
