/**
 * The browser tests' world: one node:http server on 127.0.0.1 serving, from one origin, the
 * example page (`examples/browser/`), the client bundle (`/valet-client.js`, built by
 * `pnpm run build`) and real key endpoints (createValet + toNodeListener) on real storage; and
 * Chromium driven by playwright-core with a fresh profile.
 */
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createValet, type StorageProvider, type ValetOptions } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { SECRET } from '../support/key-endpoint.js'
import type { StorageCase } from '../support/storages.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const PAGE_DIR = join(ROOT, 'examples', 'browser')
export const BUNDLE = join(ROOT, 'packages', 'client', 'dist', 'valet-client.js')
export const PRINCIPAL = 'browser-test'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

const CSP: Record<string, string> = {
  // No workers at all: hashing and sending fall back to the main thread.
  'no-workers': "worker-src 'none'",
  // Scripts and blob: workers, but no `'wasm-unsafe-eval'`: the workers can't compile WebAssembly.
  'no-wasm': "script-src 'self' blob:; worker-src 'self' blob:",
}

/** One call a key endpoint answered. */
export interface KeyCall {
  endpoint: string
  method: string
  path: string
  /** `Date.now()` when the call arrived. */
  at: number
  status: number
  /** A POST's JSON body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request?: any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  response: any
}

export interface EndpointSpec {
  options?: Partial<ValetOptions>
  /** Storage for this endpoint instead of the server's (e.g. a provider signing URLs that name a fault proxy). */
  provider?: () => StorageProvider
  /** Rewrites a JSON answer before it leaves (e.g. to spoil one signed URL). */
  rewrite?: (path: string, method: string, body: unknown) => unknown
}

export interface PageServer {
  origin: string
  calls: KeyCall[]
  /** The example page with query parameters. */
  url(params?: Record<string, string | number>): string
  close(): Promise<void>
}

async function serveFile(res: ServerResponse, file: string, headers: Record<string, string> = {}): Promise<void> {
  const info = await stat(file).catch(() => undefined)
  if (!info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    return
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
    ...headers,
  })
  createReadStream(file).pipe(res)
}

/**
 * Starts the page server. `endpoints` maps base paths (`/api/valet`) to key endpoints on
 * `storage`; what `valet dev` will do, plus `/valet-client.js` from the client's dist.
 */
export async function startPageServer(storage: StorageCase, endpoints: Record<string, EndpointSpec>): Promise<PageServer> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run "pnpm run build" before the browser tests`)
  const calls: KeyCall[] = []
  const listeners = Object.entries(endpoints).map(([base, spec]) => {
    const valet = createValet({
      storage: spec.provider?.() ?? storage.provider(),
      secret: SECRET,
      authorize: () => ({ id: PRINCIPAL }),
      onError: (error) => console.error('[valet browser test] unexpected', error),
      ...spec.options,
    })
    const recording = {
      async fetch(request: Request): Promise<Response> {
        const at = Date.now()
        const path = new URL(request.url).pathname
        const requestText = request.method === 'POST' ? await request.clone().text() : ''
        const response = await valet.fetch(request)
        const text = await response.text()
        let body: unknown = text === '' ? undefined : JSON.parse(text)
        if (spec.rewrite && body !== undefined) body = spec.rewrite(path, request.method, body)
        let requestBody: unknown
        try {
          requestBody = requestText === '' ? undefined : JSON.parse(requestText)
        } catch {
          requestBody = requestText
        }
        calls.push({ endpoint: base, method: request.method, path, at, status: response.status, request: requestBody, response: body })
        const headers = new Headers(response.headers)
        headers.delete('content-length')
        return new Response(body === undefined ? null : JSON.stringify(body), { status: response.status, headers })
      },
    }
    return { base, listener: toNodeListener(recording) }
  })
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')
    const api = listeners.find((l) => path === l.base || path.startsWith(`${l.base}/`))
    if (api) return api.listener(req, res)
    if (path === '/valet-client.js' || path === '/valet-client.js.map') {
      void serveFile(res, join(ROOT, 'packages', 'client', 'dist', path.slice(1)))
      return
    }
    const file = normalize(join(PAGE_DIR, path === '/' ? 'index.html' : path))
    if (!file.startsWith(PAGE_DIR)) {
      res.writeHead(404).end()
      return
    }
    // `?csp=...`: pages with the strict policies some sites have.
    const policy = path === '/' ? CSP[new URL(req.url ?? '/', 'http://x').searchParams.get('csp') ?? ''] : undefined
    void serveFile(res, file, policy ? { 'content-security-policy': policy } : {})
  }
  const server: Server = createServer(handler)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    calls,
    url(params = {}) {
      const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()
      return `${origin}/${query ? `?${query}` : ''}`
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  }
}

export interface Chromium {
  context: BrowserContext
  close(): Promise<void>
}

/** Debian's Chromium, headless, with a profile of its own (IndexedDB starts empty). */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'valet-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    // Flags as given, not Playwright's headless set: the same browser a person would run.
    headless: false,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 900, height: 640 },
  })
  return {
    context,
    async close() {
      await context.close().catch(() => {})
      await rm(profile, { recursive: true, force: true })
    },
  }
}

/** Opens the example page and waits until it has loaded the client bundle. */
export async function openExample(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error('[page error]', error.message))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  return page
}

export const outputDir = resolve(ROOT, 'test-output')
