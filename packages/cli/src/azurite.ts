/**
 * Starts Azurite's blob service: the one launcher, for `valet dev` and (through
 * `scripts/azurite/start.mjs`, which adds a temp dir and defaults) the repository's tests. It
 * lives here and resolves Azurite from this package, so the published CLI needs no repository
 * scripts.
 *
 * Azurite (and the Azure SDK that prepares its container) are optional peers of `@valet/cli`:
 * `valet upload` users never install them. Both load here, on first use, and a missing one is
 * reported with the command that adds it.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import type { RequestPolicy, WebResource } from '@azure/storage-blob'
import { AZURE_SERVICE_VERSION } from '@valet/server/azure'
import { missingPeer, resolvePeer } from './optional-peer.js'

const HOST = '127.0.0.1'
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1'
/** The well-known Azurite development key (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const START_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 3_000
const LOG_TAIL_CHARS = 8 * 1024

export interface AzuriteOptions {
  /** Data directory (created if missing, kept on stop). */
  dir: string
  /** @default a free port */
  port?: number
  /**
   * Address Azurite listens on. The endpoint it reports (which part URLs name) stays
   * `127.0.0.1` for a wildcard address: what a browser reaches through a port-forward.
   * @default '127.0.0.1'
   */
  host?: string
  container: string
  /** Open CORS on the blob service so pages on any origin can PUT parts, GET ranges and read ETags. @default true */
  cors?: boolean
}

export interface Azurite {
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  endpoint: string
  accountName: string
  accountKey: string
  container: string
  port: number
  /** SIGTERM, then SIGKILL after 3 s. Idempotent. */
  stop(): Promise<void>
}

function azuriteBlobMain(): string {
  const pkgPath = resolvePeer('azurite/package.json', 'azurite', 'valet dev runs Azurite as its local storage')
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> }
  return join(dirname(pkgPath), pkg.bin['azurite-blob']!)
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolvePort(port))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Any HTTP answer means the listener is up; only a connection error means "not yet". */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) })
    await res.body?.cancel()
    return true
  } catch {
    return false
  }
}

/**
 * Starts Azurite on 127.0.0.1 with data in `dir`, creates `container` and opens CORS.
 *
 * @example
 * ```ts
 * const azurite = await startAzurite({ dir: '.valet/azurite', container: 'valet-dev' })
 * azure({ accountName: azurite.accountName, accountKey: azurite.accountKey, container: azurite.container, endpoint: azurite.endpoint })
 * await azurite.stop()
 * ```
 * @throws Error with Azurite's last output when it exits or does not answer within 30 s.
 */
export async function startAzurite(options: AzuriteOptions): Promise<Azurite> {
  const location = resolve(options.dir)
  await mkdir(location, { recursive: true })
  // A port the OS picked can be taken again before Azurite binds it: retry only that case.
  const attempts = options.port === undefined ? 3 : 1
  let lastError: unknown
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort())
    try {
      const instance = await launch(location, port, options.host ?? HOST)
      try {
        await prepare(instance.endpoint, options.container, options.cors ?? true)
      } catch (error) {
        await instance.stop()
        throw error
      }
      return { ...instance, container: options.container }
    } catch (error) {
      lastError = error
      if (!(error instanceof Error && /EADDRINUSE/.test(error.message))) break
    }
  }
  throw lastError
}

/** How a URL names `host`: wildcards as loopback (a browser can't open 0.0.0.0), IPv6 in brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return HOST
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

async function launch(location: string, port: number, host: string): Promise<Omit<Azurite, 'container'>> {
  const args = [azuriteBlobMain(), '--blobHost', host, '--blobPort', String(port), '--location', location, '--disableTelemetry', '--silent']
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: location })
  let log = ''
  const push = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS)
  }
  child.stdout.on('data', push)
  child.stderr.on('data', push)
  let exited: { code: number | null; signal: string | null; error?: Error } | undefined
  const exit = new Promise<void>((resolveExit) => {
    // 'close', not 'exit': it waits for the pipes to drain, so the log tail is complete.
    child.once('close', (code, signal) => {
      exited ??= { code, signal }
      resolveExit()
    })
    child.once('error', (error) => {
      exited ??= { code: null, signal: null, error }
      resolveExit()
    })
  })
  // Never leave an orphan Azurite behind if this process exits without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit)
      if (exited === undefined) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
        await exit
        clearTimeout(timer)
      }
    })())

  const endpoint = `http://${urlHost(host)}:${port}/${AZURITE_ACCOUNT_NAME}`
  const deadline = Date.now() + START_TIMEOUT_MS
  // Azurite's own "listens on" line, then an HTTP answer: a probe alone could be answered by
  // another process already on that port while ours dies with EADDRINUSE.
  for (;;) {
    if (exited !== undefined) {
      process.removeListener('exit', killOnExit)
      const how = exited.error ? exited.error.message : `code ${exited.code}, signal ${exited.signal}`
      throw new Error(`Azurite exited during start-up (${how}) on ${host}:${port}. Its output:\n${log.trim() || '(none)'}`)
    }
    if (/successfully listen/i.test(log) && (await answers(`${endpoint}?comp=properties&restype=service`)) && exited === undefined) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Azurite did not answer on ${host}:${port} within ${START_TIMEOUT_MS / 1000} s. Its output:\n${log.trim() || '(none)'}`)
    }
    await sleep(50)
  }
  return { endpoint, accountName: AZURITE_ACCOUNT_NAME, accountKey: AZURITE_ACCOUNT_KEY, port, stop }
}

async function prepare(endpoint: string, container: string, cors: boolean): Promise<void> {
  const { BlobServiceClient, StorageSharedKeyCredential, newPipeline } = await import('@azure/storage-blob').catch((cause: unknown) => {
    throw missingPeer('@azure/storage-blob', 'valet dev creates its Azurite container with the Azure SDK', cause)
  })
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY)
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 2 } })
  // The SDK's generated operations treat x-ms-version as a constant; a legacy policy factory runs
  // before signing, so this is the one place to pin it.
  pipeline.factories.push({
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest(request: WebResource) {
        request.headers.set('x-ms-version', AZURE_SERVICE_VERSION)
        return next.sendRequest(request)
      },
    }),
  })
  const service = new BlobServiceClient(endpoint, pipeline)
  await service.getContainerClient(container).createIfNotExists({ abortSignal: AbortSignal.timeout(10_000) })
  if (cors) {
    const rule = {
      allowedOrigins: '*',
      allowedMethods: 'PUT,GET,HEAD,OPTIONS',
      allowedHeaders: '*',
      exposedHeaders: 'etag,content-md5,content-range,x-ms-*',
      maxAgeInSeconds: 3600,
    }
    await service.setProperties({ cors: [rule] }, { abortSignal: AbortSignal.timeout(10_000) })
  }
}
