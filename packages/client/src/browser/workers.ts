/**
 * The page's Valet workers, started from a `blob:` URL of the worker script: a hashing pool and
 * one sending worker. Both fall back to the main thread when workers can't start.
 *
 * The build turns the worker script into a string module that this file imports dynamically
 * (`virtual:valet-worker`): users' bundlers see an ordinary lazy chunk (no worker file to find
 * or configure), and a page that never uploads never downloads it.
 */
import type { HttpRequest, HttpResponse, Transport } from '../ports.js'
import { mainThreadTransport } from './browser-platform.js'
import { createMd5Pool, type Md5Hasher, type WorkerLike } from './md5-pool.js'
import type { BrowserBody } from './part-ref.js'
import type { Md5Engine } from './worker-protocol.js'
import { createWorkerTransport } from './worker-transport.js'

export type { Md5Hasher } from './md5-pool.js'
export type { Md5Engine } from './worker-protocol.js'

export interface Md5HasherOptions {
  /**
   * Hashing workers at most.
   * @default max(1, min(navigator.hardwareConcurrency - 1, 4))
   */
  workers?: number
  /**
   * Hash on the main thread (in small chunks, yielding between them) instead of in workers.
   * The hasher does this by itself when workers can't start.
   * @default false
   */
  mainThread?: boolean
  /**
   * The workers' MD5: `auto` is WebAssembly (hash-wasm, ~4× spark-md5) where the page allows it
   * (a CSP needs `'wasm-unsafe-eval'`), else spark-md5; `spark-md5` always uses the pure-JS path.
   * The main-thread fallback is always spark-md5.
   * @default 'auto'
   */
  engine?: Md5Engine
}

/** The worker script as a `blob:` URL, or `undefined` where workers can't run or the chunk failed to load. */
let workerUrl: Promise<string | undefined> | undefined

// One URL for the page's lifetime: workers come and go with their idle timeouts.
function loadWorkerUrl(): Promise<string | undefined> {
  workerUrl ??=
    typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function'
      ? Promise.resolve(undefined)
      : import('virtual:valet-worker').then(
          (m) => URL.createObjectURL(new Blob([m.default], { type: 'text/javascript' })),
          () => undefined,
        )
  return workerUrl
}

let loadedUrl: string | undefined

/** Resolves once {@link startWorker} can run synchronously (or knows it can't). */
async function workerScriptReady(): Promise<void> {
  loadedUrl = await loadWorkerUrl()
}

function startWorker(name: string): WorkerLike {
  if (loadedUrl === undefined) throw new Error('Web Workers are not available')
  return new Worker(loadedUrl, { name })
}

/**
 * min(cores − 1, 4), at least 1: MD5 is CPU-bound, and one core is left to the page's main
 * thread and the network stack that sends the parts. Measured on 2 cores (256 MiB to Swift,
 * Chromium): one worker uploaded as fast as two and left no long task on the page; two
 * workers starved the main thread into 55–80 ms tasks.
 */
export function defaultWorkers(): number {
  const cores = typeof navigator === 'object' ? navigator.hardwareConcurrency : undefined
  const known = typeof cores === 'number' && cores > 0 ? cores : 2
  return Math.max(1, Math.min(known - 1, 4))
}

/**
 * Creates the MD5 hasher the uploader uses: MD5 in a few Web Workers (WebAssembly, or spark-md5
 * where WebAssembly is refused), falling back to the main thread when workers are blocked. Exported for measuring hashing speed and for custom
 * pipelines; `createUploader` has its own.
 *
 * @example
 * ```ts
 * import { createMd5Hasher } from '@valet/client'
 * const hasher = createMd5Hasher({ workers: 2 })
 * const md5 = await hasher.md5(file.slice(0, 8 << 20), new AbortController().signal) // base64
 * hasher.close()
 * ```
 */
export function createMd5Hasher(options: Md5HasherOptions = {}): Md5Hasher {
  const pool = createMd5Pool({
    size: options.workers ?? defaultWorkers(),
    createWorker: options.mainThread ? undefined : () => startWorker('valet-md5'),
    engine: options.engine ?? 'auto',
  })
  if (options.mainThread) return pool
  return {
    get mode() {
      return pool.mode
    },
    get engine() {
      return pool.engine
    },
    md5: (body: BrowserBody, signal: AbortSignal) => workerScriptReady().then(() => pool.md5(body, signal)),
    close: () => pool.close(),
  }
}

/** The transport `createUploader` uses: parts from a worker, JSON calls from this thread. */
export function createPartTransport(): Transport<BrowserBody> {
  const transport = createWorkerTransport({ createWorker: () => startWorker('valet-upload'), fallback: mainThreadTransport() })
  return {
    // Only part PUTs go to the worker: the key endpoint's JSON calls need no script loaded.
    request: (req: HttpRequest<BrowserBody>): Promise<HttpResponse> =>
      typeof req.body === 'string' || req.body === undefined ? transport.request(req) : workerScriptReady().then(() => transport.request(req)),
  }
}
