/**
 * The page's Valet workers, started from a `blob:` URL of the worker script, which the build
 * inlines as a string (no worker file for users' bundlers to find): a hashing pool and one
 * sending worker. Both fall back to the main thread when workers can't start.
 */
import workerSource from 'virtual:valet-worker'
import type { Transport } from '../ports.js'
import { mainThreadTransport } from './browser-platform.js'
import { createMd5Pool, type Md5Hasher, type WorkerLike } from './md5-pool.js'
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

let workerUrl: string | undefined

function startWorker(name: string): WorkerLike {
  if (typeof Worker !== 'function' || typeof URL.createObjectURL !== 'function') throw new Error('Web Workers are not available')
  // One URL for the page's lifetime: workers come and go with their idle timeouts.
  workerUrl ??= URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }))
  return new Worker(workerUrl, { name }) as unknown as WorkerLike
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
  return createMd5Pool({
    size: options.workers ?? defaultWorkers(),
    createWorker: options.mainThread ? undefined : () => startWorker('valet-md5'),
    engine: options.engine ?? 'auto',
  })
}

/** The transport `createUploader` uses: parts from a worker, JSON calls from this thread. */
export function createPartTransport(): Transport {
  return createWorkerTransport({ createWorker: () => startWorker('valet-upload'), fallback: mainThreadTransport() })
}
