/** The `valet dev` server: Azurite (or S3) + the key endpoint at /api/valet + a page at /. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { isIP, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createValet, principalPrefix, type StorageProvider } from '@valet/server'
import { azure } from '@valet/server/azure'
import { toNodeListener } from '@valet/server/node'
import { s3 } from '@valet/server/s3'
import { startAzurite, urlHost, type Azurite } from './azurite.js'
import type { DevArgs } from './dev-args.js'
import { loadOrCreateSecret } from './dev-secret.js'
import { examplePageDir } from './package-root.js'
import { builtInPage, serveFile, staticHandler } from './static-files.js'

export const API_PATH = '/api/valet'
export const DEV_CONTAINER = 'valet-dev'
/** Where the page finds `@valet/client`'s standalone browser bundle (no build step on the page). */
export const CLIENT_BUNDLE_PATH = '/valet-client.js'

/** `@valet/client/valet-client.js`, or `undefined` when the installed client has no such build. */
function clientBundle(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@valet/client/valet-client.js')
  } catch {
    return undefined
  }
}

export interface DevServer {
  /** The page, e.g. `http://127.0.0.1:3000/`. */
  url: string
  /** The key endpoint, e.g. `http://127.0.0.1:3000/api/valet`. */
  endpoint: string
  port: number
  /** One line about where the bytes go. */
  storage: string
  /** What `/` serves: a folder, or `built-in page`. */
  page: string
  /** Stops the HTTP server, then Azurite. Idempotent. */
  close(): Promise<void>
}

/** Loopback names listen on 127.0.0.1 for Azurite: its endpoint must be an address, not a name. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Whether a request's Host names this server: `localhost`, an IP address, or the `--host` name, on
 * any port (a port-forward may change it). A page on another site that rebinds its own DNS name to
 * 127.0.0.1 would otherwise be same-origin with the key endpoint, which authorizes everyone as
 * "dev"; such a page always sends its own name.
 */
function trustedHost(header: string | undefined, host: string): boolean {
  let name: string
  try {
    name = new URL(`http://${header ?? ''}`).hostname
  } catch {
    return false
  }
  return name === 'localhost' || name === host.toLowerCase() || isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use: pick another with --port (0 for any free port)`)
          : error,
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.removeListener('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/**
 * Starts the dev stack. The port is bound first, so a taken port fails before Azurite starts.
 *
 * @example
 * ```ts
 * const dev = await startDevServer({ port: 0, host: '127.0.0.1', dir: '/tmp/valet', staticDir: undefined, corsOrigins: [], storage: { kind: 'azurite' } })
 * console.log(dev.endpoint) // http://127.0.0.1:PORT/api/valet
 * await dev.close()
 * ```
 */
export async function startDevServer(args: DevArgs): Promise<DevServer> {
  let api: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  let page: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined
  const bundle = clientBundle()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (!trustedHost(req.headers.host, args.host)) {
      const body = `valet dev answers only requests to localhost, an IP address or --host, not ${req.headers.host ?? '(no Host)'}\n`
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end(body)
    } else if (!api || !page) {
      // Valet's error shape: a client that called the key endpoint right after `valet dev`
      // started knows it reached Valet and waits (Retry-After) instead of failing fast.
      const body = JSON.stringify({ error: { code: 'storage_error', message: 'valet dev is starting its storage' } })
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(body)
    } else if (path === API_PATH || path.startsWith(`${API_PATH}/`)) {
      api(req, res)
    } else if (path === CLIENT_BUNDLE_PATH || path === `${CLIENT_BUNDLE_PATH}.map`) {
      serveFile(req, res, bundle && `${bundle}${path.endsWith('.map') ? '.map' : ''}`).catch(() => res.destroy())
    } else {
      page(req, res).catch(() => res.destroy())
    }
  })
  const port = await listen(server, args.port, args.host)
  const origin = `http://${urlHost(args.host)}:${port}`
  const endpoint = `${origin}${API_PATH}`

  let azurite: Azurite | undefined
  const stopServer = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await stopServer()
      await azurite?.stop()
    })())

  try {
    let storage: StorageProvider
    let description: string
    if (args.storage.kind === 'azurite') {
      azurite = await startAzurite({
        dir: join(args.dir, 'azurite'),
        container: DEV_CONTAINER,
        ...(args.storage.port === undefined ? {} : { port: args.storage.port }),
        ...(LOOPBACK.has(args.host) ? {} : { host: args.host }),
      })
      storage = azure({ accountName: azurite.accountName, accountKey: azurite.accountKey, container: azurite.container, endpoint: azurite.endpoint })
      description = `azurite ${azurite.endpoint}/${azurite.container} (data in ${join(args.dir, 'azurite')})`
    } else {
      const o = args.storage
      storage = s3({
        ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
        region: o.region,
        bucket: o.bucket,
        credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
        // Custom endpoints (MinIO, Swift, an IP address) rarely have wildcard DNS for buckets.
        forcePathStyle: o.endpoint !== undefined,
      })
      description = `s3 ${o.endpoint ?? 'AWS'} bucket ${o.bucket} (CORS on the bucket is yours to set)`
    }
    const valet = createValet({
      storage,
      secret: await loadOrCreateSecret(args.dir),
      authorize: () => ({ id: 'dev' }),
      // Reading is on for the dev principal's own uploads (the default key layout puts them under
      // its prefix): `valet download` and the page's Download buttons; nothing else in storage.
      canRead: ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`),
      // Its own page (under any loopback name, on its own port) and the pages named on the
      // command line: never whatever origin asks.
      allowedOrigins: [...new Set([origin, ...['127.0.0.1', 'localhost', '[::1]'].map((h) => `http://${h}:${port}`), ...args.corsOrigins])],
    })
    const root = args.staticDir ?? examplePageDir()
    page = staticHandler(root, builtInPage(endpoint))
    api = toNodeListener(valet)
    return { url: `${origin}/`, endpoint, port, storage: description, page: root ?? 'built-in page', close }
  } catch (error) {
    await close()
    throw error
  }
}
