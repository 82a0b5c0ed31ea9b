// Starts a real Azurite blob service on 127.0.0.1 for tests and `valet dev`.
//
//   import { startAzurite } from './scripts/azurite/start.mjs'
//   const azurite = await startAzurite()            // fresh temp dir, free port, CORS on
//   ... azure({ accountName, accountKey, container, endpoint }) ...
//   await azurite.stop()
//
// CLI: `node scripts/azurite/start.mjs [--dir DIR] [--port P] [--container NAME] [--no-cors]`
// prints the connection JSON and runs until SIGINT/SIGTERM.
//
// Azurite runs strict (no --loose, no --skipApiVersionCheck): the SDK calls below pin a service
// version Azurite knows, because @azure/storage-blob 12.32 defaults to 2026-04-06, which
// Azurite 3.35 refuses (400 InvalidHeaderValue).
import { spawn } from 'node:child_process'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { BlobServiceClient, StorageSharedKeyCredential, newPipeline } from '@azure/storage-blob'

const HOST = '127.0.0.1'
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1'
/** The well-known Azurite development key (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export const DEFAULT_CONTAINER = 'valet-test'
// Keep in step with the version pinned by the azure provider (packages/server/src/azure/options.ts).
const SERVICE_VERSION = '2025-05-05'
const START_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 3_000
const LOG_TAIL_BYTES = 8 * 1024

const require = createRequire(import.meta.url)

/** Absolute path of Azurite's blob entry point, resolved from this file, so any cwd works. */
function azuriteBlobMain() {
  const pkgPath = require.resolve('azurite/package.json')
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
  return join(dirname(pkgPath), pkg.bin['azurite-blob'])
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
      server.close(() => resolvePort(port))
    })
  })
}

/** Bounded log of a child's output, so failures can show what Azurite said last. */
function logTail() {
  let text = ''
  let listening = false
  return {
    push(chunk) {
      text = (text + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES)
      listening ||= /successfully listen/i.test(text)
    },
    listening: () => listening,
    toString() {
      return text.trim() || '(no output)'
    },
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Any HTTP answer (even 4xx) means the listener is up; only connection errors mean "not yet". */
async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) })
    await res.body?.cancel()
    return true
  } catch {
    return false
  }
}

/**
 * Starts Azurite's blob service on 127.0.0.1, creates a container and (by default) opens CORS so a
 * browser page on any origin can PUT parts and read ETag / Content-MD5.
 *
 * @param {{ dir?: string, port?: number, container?: string, cors?: boolean }} [options]
 *   `dir`: data directory, kept on stop (default: a fresh temp dir, removed on stop);
 *   `port`: default a free port; `container`: default `valet-test`; `cors`: default true.
 * @returns {Promise<{ endpoint: string, accountName: string, accountKey: string, container: string,
 *   dir: string, port: number, startupMs: number, stop: () => Promise<void> }>}
 *   `startupMs`: spawn to first answer; `stop()`: SIGTERM, SIGKILL after 3 s, removes a temp dir.
 * @throws Error with Azurite's log tail if it exits or does not answer within 30 s.
 */
export async function startAzurite({ dir, port, container = DEFAULT_CONTAINER, cors = true } = {}) {
  const ownsDir = dir === undefined
  const location = ownsDir ? await mkdtemp(join(tmpdir(), 'valet-azurite-')) : resolve(dir)
  if (!ownsDir) await mkdir(location, { recursive: true })

  // A port picked by the OS can be taken again before Azurite binds it: retry only that case.
  const attempts = port === undefined ? 3 : 1
  let lastError
  for (let i = 0; i < attempts; i++) {
    const p = port ?? (await freePort())
    try {
      const instance = await launch(location, p, ownsDir)
      try {
        await prepare(instance.endpoint, container, cors)
      } catch (error) {
        await instance.stop()
        throw error
      }
      return { ...instance, container }
    } catch (error) {
      lastError = error
      if (!(error instanceof Error && /EADDRINUSE/.test(error.message))) break
    }
  }
  if (ownsDir) await rm(location, { recursive: true, force: true })
  throw lastError
}

async function launch(location, port, ownsDir) {
  const args = [
    azuriteBlobMain(),
    '--blobHost', HOST,
    '--blobPort', String(port),
    '--location', location,
    '--disableTelemetry',
    '--silent',
  ]
  const started = Date.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: location })
  const log = logTail()
  child.stdout.on('data', (c) => log.push(c))
  child.stderr.on('data', (c) => log.push(c))

  let exited = null
  const exit = new Promise((resolveExit) => {
    // 'close', not 'exit': it waits for stdout/stderr to drain, so the log tail is complete.
    child.once('close', (code, signal) => {
      exited = { code, signal }
      resolveExit(exited)
    })
    child.once('error', (error) => {
      exited = { code: null, signal: null, error }
      resolveExit(exited)
    })
  })
  // Never leave an orphan Azurite behind if the parent exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)

  let stopping
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit)
      if (exited === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
        await exit
        clearTimeout(timer)
      }
      if (ownsDir) await rm(location, { recursive: true, force: true })
    })())

  const endpoint = `http://${HOST}:${port}/${AZURITE_ACCOUNT_NAME}`
  const deadline = started + START_TIMEOUT_MS
  // Readiness is Azurite's own "listens on" line, then an HTTP answer: a probe alone could be
  // answered by another process already on that port while ours dies with EADDRINUSE.
  while (true) {
    if (exited !== null) {
      process.removeListener('exit', killOnExit)
      const how = exited.error ? exited.error.message : `code ${exited.code}, signal ${exited.signal}`
      throw new Error(`Azurite exited during start-up (${how}) on ${HOST}:${port}. Log tail:\n${log}`)
    }
    if (log.listening() && (await answers(`${endpoint}?comp=properties&restype=service`)) && exited === null) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Azurite did not answer on ${HOST}:${port} within ${START_TIMEOUT_MS / 1000} s. Log tail:\n${log}`)
    }
    await sleep(50)
  }
  return {
    endpoint,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    dir: location,
    port,
    startupMs: Date.now() - started,
    stop,
  }
}

async function prepare(endpoint, container, cors) {
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY)
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 2 } })
  // The SDK's generated operations treat x-ms-version as a constant; a legacy policy factory runs
  // before signing, so this is the one place to pin it.
  pipeline.factories.push({
    create: (next) => ({
      sendRequest(request) {
        request.headers.set('x-ms-version', SERVICE_VERSION)
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
      exposedHeaders: 'etag,content-md5,x-ms-*',
      maxAgeInSeconds: 3600,
    }
    await service.setProperties(
      { cors: [rule] },
      { abortSignal: AbortSignal.timeout(10_000) },
    )
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      container: { type: 'string' },
      'no-cors': { type: 'boolean' },
    },
  })
  const azurite = await startAzurite({
    dir: values.dir,
    port: values.port === undefined ? undefined : Number(values.port),
    container: values.container,
    cors: !values['no-cors'],
  })
  const { stop, ...info } = azurite
  process.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
  const shutdown = () => {
    stop().then(() => process.exit(0), (error) => {
      console.error(error)
      process.exit(1)
    })
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
