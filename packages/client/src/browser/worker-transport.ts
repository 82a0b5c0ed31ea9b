/**
 * The browser {@link Transport}: part PUTs go out from a worker with XHR (upload progress
 * included), so neither slicing the file nor `xhr.send` — both synchronous calls into the
 * browser process in Chromium — ever runs on the page's main thread. Everything else (the small
 * JSON calls to the key endpoint), and everything when workers can't start, uses XHR here.
 */
import { ValetError } from '@valet/protocol'
import { safeUrl } from '../http/safe-url.js'
import type { HttpRequest, HttpResponse, Transport } from '../ports.js'
import type { WorkerLike } from './md5-pool.js'
import { isPartRef, type BrowserBody } from './part-ref.js'
import type { WorkerBody } from './worker-protocol.js'

export interface WorkerTransportOptions {
  /** Starts the sending worker; may throw (CSP). `undefined`: always `fallback`. */
  createWorker: (() => WorkerLike) | undefined
  /** The main-thread transport for JSON calls, and for parts when no worker can run. */
  fallback: Transport<BrowserBody>
  /** An idle sending worker is stopped after this long, ms. */
  idleTimeout?: number
}

interface InFlight {
  url: string
  resolve(response: HttpResponse): void
  reject(error: unknown): void
  onUploadProgress: ((loaded: number) => void) | undefined
  cleanUp(): void
}

function networkError(req: { method: string; url: string }, message: string): ValetError {
  return new ValetError('network_error', `${req.method} ${safeUrl(req.url)} failed: ${message}`, { context: { url: safeUrl(req.url) } })
}

function toWorkerBody(body: BrowserBody): { body: WorkerBody; transfer: Transferable[] } {
  if (isPartRef(body)) return { body: { file: body.file, start: body.start, end: body.end }, transfer: [] }
  if (body instanceof Uint8Array) {
    const copy = body.slice().buffer
    return { body: copy, transfer: [copy] }
  }
  return { body, transfer: [] }
}

export function createWorkerTransport(options: WorkerTransportOptions): Transport<BrowserBody> {
  const idleTimeout = options.idleTimeout ?? 15_000
  const inFlight = new Map<number, InFlight>()
  let worker: WorkerLike | undefined
  let broken = options.createWorker === undefined
  let idle: ReturnType<typeof setTimeout> | undefined
  let nextId = 1

  /** The worker failed: requests in flight end as network errors (the engine retries them here). */
  const breakWorker = (): void => {
    broken = true
    clearTimeout(idle)
    worker?.terminate()
    worker = undefined
    for (const [id, request] of [...inFlight]) {
      inFlight.delete(id)
      request.cleanUp()
      request.reject(networkError({ method: 'PUT', url: request.url }, 'the sending worker stopped'))
    }
  }

  const stopWhenIdle = (): void => {
    clearTimeout(idle)
    if (inFlight.size > 0) return
    idle = setTimeout(() => {
      if (inFlight.size > 0) return
      worker?.terminate()
      worker = undefined
    }, idleTimeout)
  }

  const ensureWorker = (): WorkerLike | undefined => {
    if (worker !== undefined || broken) return worker
    try {
      worker = (options.createWorker as () => WorkerLike)()
    } catch {
      broken = true
      return undefined
    }
    worker.onmessage = (event) => {
      const reply = event.data
      const request = inFlight.get(reply.id)
      if (request === undefined) return
      if (reply.kind === 'progress') {
        request.onUploadProgress?.(reply.loaded)
        return
      }
      if (reply.kind !== 'response' && reply.kind !== 'network-error') return
      inFlight.delete(reply.id)
      request.cleanUp()
      if (reply.kind === 'response') request.resolve({ status: reply.status, headers: reply.headers, body: reply.body })
      else request.reject(networkError({ method: 'PUT', url: request.url }, reply.message))
      stopWhenIdle()
    }
    worker.onerror = (event) => {
      event.preventDefault?.()
      breakWorker()
    }
    worker.onmessageerror = () => breakWorker()
    return worker
  }

  return {
    request(req: HttpRequest<BrowserBody>): Promise<HttpResponse> {
      const part = req.body === undefined || typeof req.body === 'string' ? undefined : req.body
      const target = part !== undefined ? ensureWorker() : undefined
      if (part === undefined || target === undefined) return options.fallback.request(req)
      if (req.signal.aborted) return Promise.reject(req.signal.reason)
      clearTimeout(idle)
      const id = nextId++
      const { body, transfer } = toWorkerBody(part)
      return new Promise<HttpResponse>((resolve, reject) => {
        const onAbort = (): void => {
          if (!inFlight.delete(id)) return
          worker?.postMessage({ kind: 'abort', id }, [])
          reject(req.signal.reason)
          stopWhenIdle()
        }
        req.signal.addEventListener('abort', onAbort, { once: true })
        inFlight.set(id, {
          url: req.url,
          resolve,
          reject,
          onUploadProgress: req.onUploadProgress,
          cleanUp: () => req.signal.removeEventListener('abort', onAbort),
        })
        try {
          target.postMessage(
            { kind: 'put', id, method: req.method, url: req.url, headers: req.headers, body, progress: req.onUploadProgress !== undefined },
            transfer,
          )
        } catch {
          breakWorker()
        }
      })
    },
  }
}
