/**
 * A reverse proxy on 127.0.0.1 in front of one storage origin, for download tests of the built
 * CLI: it slows the bodies of ranged GETs down to a byte rate (so a test can kill `valet
 * download` mid-way) and counts them (so a test can tell which ranges a run really fetched).
 *
 * Point the storage provider's `endpoint` at {@link RangeProxy.endpointFor}: read keys then name
 * the proxy. Requests are forwarded with the `Host` header the client sent (SigV4 signs `host`,
 * so Swift verifies against the proxy's host:port, which is what the key server signed; an Azure
 * SAS doesn't sign the host). Everything else (the key server's own storage calls, part PUTs)
 * passes at full speed.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface RangeGet {
  /** The `Range` / `x-ms-range` header as sent. */
  range: string
  /** Storage's status. */
  status: number
  /** The whole body reached the client. */
  delivered: boolean
}

export interface RangeProxy {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** The storage endpoint with the proxy's origin: `http://127.0.0.1:PORT/devstoreaccount1`. */
  endpointFor(storageEndpoint: string): string
  /** Response-body bytes per second over all ranged GETs; `Infinity` for full speed. */
  rate: number
  /** Every ranged GET, in arrival order. */
  gets: RangeGet[]
  close(): Promise<void>
}

export async function startRangeProxy(target: string, rate = Number.POSITIVE_INFINITY): Promise<RangeProxy> {
  const upstream = new URL(target)
  const sockets = new Set<Socket>()
  let nextFree = 0
  const pace = async (bytes: number): Promise<void> => {
    if (!Number.isFinite(proxy.rate)) return
    const start = Math.max(Date.now(), nextFree)
    nextFree = start + (bytes / proxy.rate) * 1000
    const wait = nextFree - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const rangeHeader = req.headers['range'] ?? req.headers['x-ms-range']
    const range = req.method === 'GET' && typeof rangeHeader === 'string' ? rangeHeader : undefined
    const record: RangeGet | undefined = range === undefined ? undefined : { range, status: 0, delivered: false }
    if (record) proxy.gets.push(record)
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers })
    forward.on('response', (answer) => {
      if (record) record.status = answer.statusCode ?? 0
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      void (async () => {
        try {
          for await (const chunk of answer as AsyncIterable<Buffer>) {
            // In small slices, so a kill lands inside a range rather than between two.
            for (let at = 0; at < chunk.length; at += 64 * 1024) {
              const slice = chunk.subarray(at, at + 64 * 1024)
              if (record) await pace(slice.length)
              if (res.destroyed) {
                answer.destroy()
                return
              }
              if (!res.write(slice)) await new Promise((r) => res.once('drain', r))
            }
          }
          res.end(() => {
            if (record) record.delivered = true
          })
        } catch {
          res.destroy()
        }
      })()
    })
    forward.on('error', () => res.destroy())
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy()
    })
    req.pipe(forward)
  }

  const server: Server = createServer(handle)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy: RangeProxy = {
    origin,
    endpointFor: (storageEndpoint) => {
      const url = new URL(storageEndpoint)
      return `${origin}${url.pathname === '/' ? '' : url.pathname}`
    },
    rate,
    gets: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  return proxy
}
