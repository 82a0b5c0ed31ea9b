/**
 * A small pool of hashing workers behind the {@link Hasher} port. MD5 is CPU-bound, so parts are
 * hashed off the main thread, one part per worker at a time; when workers can't run at all (no
 * `Worker`, a CSP without `blob:` in `worker-src`), the pool hashes on the main thread in
 * chunks instead and says so in `mode`.
 */
import { ValetError } from '@valet/protocol'
import type { Hasher } from '../ports.js'
import { isPartRef, materialize, type BrowserBody } from './part-ref.js'
import type { Md5Engine, WorkerBody, WorkerReply, WorkerRequest } from './worker-protocol.js'

/** What the pool needs of a `Worker`: tests pass fakes. */
export interface WorkerLike {
  postMessage(message: WorkerRequest, transfer: Transferable[]): void
  terminate(): void
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null
  onerror: ((event: ErrorEvent) => void) | null
  onmessageerror: ((event: MessageEvent) => void) | null
}

export interface Md5PoolOptions {
  /** Workers at most (started on demand). */
  size: number
  /**
   * Starts a worker; may throw (CSP), which switches the pool to the main thread. `undefined`:
   * main thread from the start.
   */
  createWorker: (() => WorkerLike) | undefined
  /** Idle workers are stopped after this long, ms; a page that uploads once keeps no threads. */
  idleTimeout?: number
  /** The MD5 workers may use (the main-thread fallback is always spark-md5). Default `auto`. */
  engine?: Md5Engine
}

/** A {@link Hasher} that can say where it runs and be shut down. */
export interface Md5Hasher extends Hasher<BrowserBody> {
  /** `workers` until workers prove unusable, then `main-thread` for good. */
  readonly mode: 'workers' | 'main-thread'
  /** The MD5 code that hashed the last part: `undefined` before the first one. */
  readonly engine: 'hash-wasm' | 'spark-md5' | undefined
  /** Stops the workers; queued and running hashes reject. */
  close(): void
}

interface Task {
  id: number
  /** What the caller passed: kept so the fallback can hash it if a worker dies. */
  source: BrowserBody
  signal: AbortSignal
  resolve(md5: string): void
  reject(error: unknown): void
  settled: boolean
  onAbort(): void
}

interface Slot {
  worker: WorkerLike
  task: Task | undefined
  idle: ReturnType<typeof setTimeout> | undefined
}

/**
 * spark-md5 on this thread, loaded on first use: a page whose workers run never downloads it
 * (they carry their own MD5).
 */
const mainThreadMd5 = (body: Blob | Uint8Array, signal: AbortSignal): Promise<string> =>
  import('./md5-of.js').then((m) => m.md5InChunks(body, signal))

function readError(error: { name: string; message: string }): ValetError {
  // NotReadableError: the file changed or vanished on disk after it was picked.
  return new ValetError('invalid_source', `the file could not be read (${error.name}): ${error.message}`, { context: { reason: error.name } })
}

export function createMd5Pool(options: Md5PoolOptions): Md5Hasher {
  const size = Math.max(1, Math.floor(options.size))
  const idleTimeout = options.idleTimeout ?? 15_000
  const slots: Slot[] = []
  const queue: Task[] = []
  let nextId = 1
  let broken = options.createWorker === undefined
  let lastEngine: 'hash-wasm' | 'spark-md5' | undefined
  let closed = false

  const settle = (task: Task, outcome: { md5: string } | { error: unknown }): void => {
    if (task.settled) return
    task.settled = true
    task.signal.removeEventListener('abort', task.onAbort)
    if ('md5' in outcome) task.resolve(outcome.md5)
    else task.reject(outcome.error)
  }

  const runOnMainThread = (task: Task): void => {
    if (task.settled) return
    mainThreadMd5(materialize(task.source), task.signal).then(
      (md5) => {
        lastEngine = 'spark-md5'
        settle(task, { md5 })
      },
      (error: unknown) => settle(task, { error }),
    )
  }

  /** Workers don't work here: everything pending, and all later work, goes to the main thread. */
  const breakPool = (): void => {
    if (broken) return
    broken = true
    const orphans = slots.flatMap((s) => (s.task ? [s.task] : []))
    for (const slot of slots.splice(0)) {
      clearTimeout(slot.idle)
      slot.worker.terminate()
    }
    for (const task of [...orphans, ...queue.splice(0)]) runOnMainThread(task)
  }

  const stopIfIdle = (slot: Slot): void => {
    clearTimeout(slot.idle)
    slot.idle = setTimeout(() => {
      const i = slots.indexOf(slot)
      if (slot.task !== undefined || i < 0) return
      slots.splice(i, 1)
      slot.worker.terminate()
    }, idleTimeout)
  }

  const startWorker = (): Slot | undefined => {
    let worker: WorkerLike
    try {
      if (options.createWorker === undefined) throw new Error('no workers')
      worker = options.createWorker()
    } catch {
      breakPool()
      return undefined
    }
    const slot: Slot = { worker, task: undefined, idle: undefined }
    worker.onmessage = (event) => {
      const reply = event.data
      if (reply.kind !== 'md5' && reply.kind !== 'read-error') return
      const task = slot.task
      slot.task = undefined
      if (task !== undefined && task.id === reply.id) {
        if (reply.kind === 'md5') lastEngine = reply.engine
        settle(task, reply.kind === 'md5' ? { md5: reply.md5 } : { error: readError(reply) })
      }
      pump()
    }
    // A worker that fails to load (CSP, blocked blob: URL) or crashes reports here, not in a reply.
    worker.onerror = (event) => {
      event.preventDefault?.()
      breakPool()
    }
    worker.onmessageerror = () => breakPool()
    slots.push(slot)
    return slot
  }

  const post = (slot: Slot, task: Task): void => {
    clearTimeout(slot.idle)
    slot.task = task
    const { source } = task
    let body: WorkerBody
    const transfer: Transferable[] = []
    if (source instanceof Uint8Array) {
      // A copy the worker may own: the caller's bytes stay untouched and usable.
      body = source.slice().buffer
      transfer.push(body)
    } else if (isPartRef(source)) {
      // The worker slices: a slice here would be a synchronous call into the browser process.
      body = { file: source.file, start: source.start, end: source.end }
    } else {
      body = source
    }
    try {
      slot.worker.postMessage({ kind: 'hash', id: task.id, body, engine: options.engine ?? 'auto' }, transfer)
    } catch {
      breakPool()
    }
  }

  function pump(): void {
    while (!broken && queue.length > 0) {
      const slot = slots.find((s) => s.task === undefined) ?? (slots.length < size ? startWorker() : undefined)
      if (slot === undefined) break
      const task = queue.shift() as Task
      if (task.settled) continue
      post(slot, task)
    }
    for (const slot of slots) if (slot.task === undefined) stopIfIdle(slot)
  }

  return {
    get mode() {
      return broken ? 'main-thread' : 'workers'
    },
    get engine() {
      return lastEngine
    },
    md5(body: BrowserBody, signal: AbortSignal) {
      if (signal.aborted) return Promise.reject(signal.reason)
      if (closed) return Promise.reject(new ValetError('aborted', 'the hasher was closed'))
      return new Promise<string>((resolve, reject) => {
        const task: Task = {
          id: nextId++,
          source: body,
          signal,
          resolve,
          reject,
          settled: false,
          onAbort: () => {
            // A running hash can't be stopped; its reply is dropped, and its worker freed then.
            const i = queue.indexOf(task)
            if (i >= 0) queue.splice(i, 1)
            settle(task, { error: signal.reason })
          },
        }
        signal.addEventListener('abort', task.onAbort, { once: true })
        if (broken) return runOnMainThread(task)
        queue.push(task)
        pump()
      })
    },
    close() {
      closed = true
      const error = new ValetError('aborted', 'the hasher was closed')
      for (const slot of slots.splice(0)) {
        clearTimeout(slot.idle)
        slot.worker.terminate()
        if (slot.task) settle(slot.task, { error })
      }
      for (const task of queue.splice(0)) settle(task, { error })
    },
  }
}
