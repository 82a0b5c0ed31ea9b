/**
 * The browser tests' world: the kit's key server (test/support/key-server.ts) on 127.0.0.1
 * serving, from one origin, real key endpoints on real storage, the example page
 * (`examples/browser/`) and the client bundle (`/valet-client.js`, built by `pnpm run build`); and
 * Chromium driven by playwright-core with a fresh profile.
 */
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { StorageProvider, ValetOptions } from '@valet/server'
import { startKeyServer, type KeyServer, type Mount } from '../support/key-server.js'
import { PartPuts, addMadeFile, makeFileInPage, throttleUploads, waitForStatus, type FileSpec, type RowState } from './page-tools.js'
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

export type { KeyCall } from '../support/key-server.js'

export interface EndpointSpec {
  options?: Partial<ValetOptions>
  /** Storage for this endpoint instead of the server's (e.g. a provider signing URLs that name a fault proxy). */
  provider?: () => StorageProvider
  /** Rewrites a JSON answer before it leaves (e.g. to spoil one signed URL). */
  rewrite?: Mount['rewrite']
}

/** The kit's key server, also serving the example page and the client bundle. */
export interface PageServer extends KeyServer {
  /** The example page with query parameters. */
  url(params?: Record<string, string | number>): string
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
  const mount = (spec: EndpointSpec): Mount => ({
    storage: spec.provider?.() ?? storage.provider(),
    options: { authorize: () => ({ id: PRINCIPAL }), ...spec.options },
    rewrite: spec.rewrite,
  })
  const [head, ...more] = Object.entries(endpoints)
  if (!head) throw new Error('startPageServer: name at least one endpoint')
  const [base, first] = head
  const page = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')
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
  const { storage: provider, options, rewrite } = mount(first)
  const keys = await startKeyServer(provider, options, {
    base,
    rewrite,
    mounts: Object.fromEntries(more.map(([b, spec]) => [b, mount(spec)])),
    fallback: page,
  })
  return Object.assign(keys, {
    url(params: Record<string, string | number> = {}) {
      const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()
      return `${keys.origin}/${query ? `?${query}` : ''}`
    },
  })
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

/**
 * Opens the example page at `url`, watches its part PUTs (throttled to `bytesPerSecond`, if
 * given), makes `spec` in the page and uploads it until its row is done.
 */
export async function uploadMadeFile(context: BrowserContext, url: string, spec: FileSpec, bytesPerSecond?: number): Promise<{ page: Page; puts: PartPuts; row: RowState }> {
  const page = await openExample(context, url)
  const puts = new PartPuts(page)
  if (bytesPerSecond !== undefined) await throttleUploads(page, bytesPerSecond)
  await makeFileInPage(page, spec)
  const row = await waitForStatus(page, await addMadeFile(page, spec.name), ['done'])
  return { page, puts, row }
}

export const outputDir = resolve(ROOT, 'test-output')
