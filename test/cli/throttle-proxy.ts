/**
 * A forward HTTP proxy on 127.0.0.1 for CLI subprocess tests: it slows request bodies down to a
 * byte rate (so a test can kill `valet upload` mid-way) and counts the part PUTs storage
 * accepted (so a test can tell how many parts a run really sent).
 *
 * The CLI's HTTP client (axios's Node adapter) honours `http_proxy`, so a child process started
 * with {@link ThrottleProxy.env} sends every request through here, unchanged but for the pace.
 * Only targets on 127.0.0.1 are forwarded.
 */
import { once } from 'node:events'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface ThrottleProxy {
  url: string
  /** Request-body bytes per second over all connections; `Infinity` for full speed. */
  rate: number
  /** Part PUTs (Azure `comp=block`, S3 `partNumber=`) that storage answered with 2xx. */
  partsStored: number
  /** Every request forwarded, as `METHOD path` (no query: it holds SAS signatures). */
  requests: string[]
  /**
   * Resolves once no forwarded request waits on its server. A part PUT whose body went out whole
   * is followed to its answer even after the client died (a killed CLI's last part), and storage
   * answers only once the part is in its listings: after this, a listing of parts is final.
   */
  idle(): Promise<void>
  /** Environment for a child process that must use this proxy (and no other). */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  close(): Promise<void>
}

export async function startThrottleProxy(rate = Number.POSITIVE_INFINITY): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>()
  // One shared pace: each chunk books its slot after the previous one, whichever connection it is on.
  let nextFree = 0
  const pace = async (bytes: number): Promise<void> => {
    if (!Number.isFinite(proxy.rate)) return
    const start = Math.max(Date.now(), nextFree)
    nextFree = start + (bytes / proxy.rate) * 1000
    const wait = nextFree - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }

  let inFlight = 0
  let waiting: (() => void)[] = []
  const track = (): (() => void) => {
    inFlight++
    let done = false
    return () => {
      if (done) return
      done = true
      if (--inFlight > 0) return
      const wake = waiting
      waiting = []
      for (const w of wake) w()
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end('absolute URL expected (forward proxy)\n')
      return
    }
    if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') {
      res.writeHead(403).end('this test proxy only forwards to http://127.0.0.1\n')
      return
    }
    proxy.requests.push(`${req.method} ${target.pathname}`)
    const isPartPut = req.method === 'PUT' && (target.searchParams.get('comp') === 'block' || target.searchParams.has('partNumber'))
    const headers = { ...req.headers }
    delete headers['proxy-connection']
    delete headers['proxy-authorization']
    const settled = track()
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers })
    let bodySent = false
    let answered: IncomingMessage | undefined
    upstream.on('response', (answer) => {
      answered = answer
      if (isPartPut && answer.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300) proxy.partsStored++
      answer.on('end', settled)
      answer.on('close', settled)
      answer.on('error', () => res.destroy())
      // Its client is gone: read the answer to its end all the same.
      if (res.destroyed) return void answer.resume()
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => {
      settled()
      res.destroy()
    })
    upstream.on('close', () => {
      if (answered === undefined) settled()
    })
    res.on('error', () => {})
    // The client died (SIGKILL): storage must see a cut body, never a complete part. A part whose
    // body went out whole is storage's to answer: followed to its end (see idle()). Other calls
    // (the key endpoint's) see their client go, as they would without a proxy.
    res.on('close', () => {
      if (res.writableFinished) return
      if (!(bodySent && isPartPut)) upstream.destroy()
      else answered?.resume()
    })
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        await pace(chunk.length)
        if (upstream.destroyed) return
        if (!upstream.write(chunk)) await once(upstream, 'drain')
      }
      bodySent = true
      upstream.end()
    } catch {
      upstream.destroy()
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res))
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy: ThrottleProxy = {
    url,
    rate,
    partsStored: 0,
    requests: [],
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
    env(base = process.env) {
      const env: NodeJS.ProcessEnv = { ...base, http_proxy: url, HTTP_PROXY: url, no_proxy: '', NO_PROXY: '' }
      for (const key of ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'npm_config_proxy', 'npm_config_http_proxy', 'npm_config_no_proxy', 'NODE_USE_ENV_PROXY']) {
        delete env[key]
      }
      return env
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  return proxy
}
