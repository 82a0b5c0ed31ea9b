import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { testBytes } from '../testing/fake-valet.js'
import { createMd5Pool, type WorkerLike } from './md5-pool.js'
import { md5OfBytes } from './md5-of.js'
import { PartRef } from './part-ref.js'
import { isRangeBody, type WorkerReply, type WorkerRequest } from './worker-protocol.js'

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')
const live = new AbortController().signal

/** A worker in this thread that hashes like the real one, answering when `release` is called (or at once). */
class FakeWorker implements WorkerLike {
  static all: FakeWorker[] = []
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  onmessageerror: ((event: MessageEvent) => void) | null = null
  received: WorkerRequest[] = []
  transfers: Transferable[][] = []
  terminated = false
  held: (() => void)[] = []
  constructor(readonly hold = false) {
    FakeWorker.all.push(this)
  }
  postMessage(message: WorkerRequest, transfer: Transferable[]): void {
    this.received.push(message)
    this.transfers.push(transfer)
    if (message.kind !== 'hash') return
    const run = async () => {
      const body = message.body
      const blob = isRangeBody(body) ? body.file.slice(body.start, body.end) : body
      const bytes = blob instanceof ArrayBuffer ? blob : await blob.arrayBuffer()
      this.onmessage?.({ data: { kind: 'md5', id: message.id, engine: 'spark-md5', md5: md5OfBytes(bytes) } } as MessageEvent<WorkerReply>)
    }
    if (this.hold) this.held.push(() => void run())
    else void run()
  }
  terminate(): void {
    this.terminated = true
  }
  release(): void {
    for (const go of this.held.splice(0)) go()
  }
}

afterEach(() => {
  FakeWorker.all = []
  vi.useRealTimers()
})

describe('md5 worker pool', () => {
  it('hashes Blobs, PartRefs and bytes in workers, at most `size` workers, correct results', async () => {
    const bytes = testBytes(3 << 20, 5)
    const file = new Blob([bytes])
    const pool = createMd5Pool({ size: 2, createWorker: () => new FakeWorker() })
    const part = new PartRef(file, 1 << 20, 2 << 20)
    const results = await Promise.all([
      pool.md5(file.slice(0, 1 << 20), live),
      pool.md5(part, live),
      pool.md5(bytes.subarray(2 << 20), live),
    ])
    expect(results).toEqual([md5(bytes.subarray(0, 1 << 20)), md5(bytes.subarray(1 << 20, 2 << 20)), md5(bytes.subarray(2 << 20))])
    expect(FakeWorker.all).toHaveLength(2)
    expect(pool.mode).toBe('workers')
    expect(pool.engine).toBe('spark-md5')
    const posted = FakeWorker.all.flatMap((w) => w.received)
    // The engine option travels with every hash (default: WebAssembly where the worker can).
    expect(posted.every((m) => m.kind === 'hash' && m.engine === 'auto')).toBe(true)
    // A reference travels as a range: the worker slices, not this thread.
    expect(posted.some((m) => m.kind === 'hash' && isRangeBody(m.body) && m.body.start === 1 << 20)).toBe(true)
    // Bytes travel as a transferred copy; the caller's view is untouched.
    expect(FakeWorker.all.flatMap((w) => w.transfers).flat()).toHaveLength(1)
    expect(bytes.byteLength).toBe(3 << 20)
    pool.close()
  })

  it('hashes tiny byte arrays (fingerprint text) in a worker too: the page loads no MD5 code while workers run', async () => {
    const pool = createMd5Pool({ size: 2, createWorker: () => new FakeWorker() })
    const text = new TextEncoder().encode('["valet-fingerprint-1"]')
    expect(await pool.md5(text, live)).toBe(md5(text))
    expect(FakeWorker.all).toHaveLength(1)
    expect(FakeWorker.all[0]!.received.map((m) => m.kind)).toEqual(['hash'])
    pool.close()
  })

  it('falls back to the main thread for good when a worker cannot start (CSP)', async () => {
    const bytes = testBytes(200_000)
    const pool = createMd5Pool({
      size: 2,
      createWorker: () => {
        throw new DOMException('blocked by CSP', 'SecurityError')
      },
    })
    expect(await pool.md5(new Blob([bytes]), live)).toBe(md5(bytes))
    expect(await pool.md5(new PartRef(new Blob([bytes]), 10, 150_000), live)).toBe(md5(bytes.subarray(10, 150_000)))
    expect(pool.mode).toBe('main-thread')
    expect(pool.engine).toBe('spark-md5')
  })

  it('passes a forced engine to its workers', async () => {
    const pool = createMd5Pool({ size: 1, createWorker: () => new FakeWorker(), engine: 'spark-md5' })
    await pool.md5(new Blob([testBytes(100_000)]), live)
    expect(FakeWorker.all[0]!.received).toMatchObject([{ kind: 'hash', engine: 'spark-md5' }])
    pool.close()
  })

  it('re-runs on the main thread what a worker had when it failed to load', async () => {
    const bytes = testBytes(500_000, 9)
    const pool = createMd5Pool({ size: 1, createWorker: () => new FakeWorker(true) })
    const first = pool.md5(new Blob([bytes.subarray(0, 100)]), live)
    const queued = pool.md5(new Blob([bytes]), live)
    await Promise.resolve()
    const worker = FakeWorker.all[0]!
    worker.onerror?.(new Event('error'))
    expect(await first).toBe(md5(bytes.subarray(0, 100)))
    expect(await queued).toBe(md5(bytes))
    expect(worker.terminated).toBe(true)
    expect(pool.mode).toBe('main-thread')
  })

  it('drops a queued hash when its signal aborts, and ignores the reply of a running one', async () => {
    const pool = createMd5Pool({ size: 1, createWorker: () => new FakeWorker(true) })
    const a = new AbortController()
    const b = new AbortController()
    const running = pool.md5(new Blob([testBytes(1000)]), a.signal)
    const queued = pool.md5(new Blob([testBytes(1000, 2)]), b.signal)
    b.abort(new Error('b'))
    a.abort(new Error('a'))
    await expect(running).rejects.toThrow('a')
    await expect(queued).rejects.toThrow('b')
    const worker = FakeWorker.all[0]!
    worker.release()
    expect(worker.received).toHaveLength(1)
    // The worker is free again for the next part.
    const next = pool.md5(new Blob([testBytes(10)]), live)
    await vi.waitFor(() => expect(worker.received).toHaveLength(2))
    worker.release()
    expect(await next).toBe(md5(testBytes(10)))
  })

  it('stops idle workers, and close() rejects what is pending', async () => {
    vi.useFakeTimers()
    const pool = createMd5Pool({ size: 1, createWorker: () => new FakeWorker(true), idleTimeout: 1000 })
    const first = pool.md5(new Blob([testBytes(10)]), live)
    await Promise.resolve()
    FakeWorker.all[0]!.release()
    await vi.waitFor(() => first)
    await first
    vi.advanceTimersByTime(1001)
    expect(FakeWorker.all[0]!.terminated).toBe(true)
    const pending = pool.md5(new Blob([testBytes(10)]), live)
    pool.close()
    await expect(pending).rejects.toMatchObject({ code: 'aborted' })
    await expect(pool.md5(new Blob([testBytes(10)]), live)).rejects.toMatchObject({ code: 'aborted' })
  })

  it('turns a read error in the worker into invalid_source', async () => {
    const pool = createMd5Pool({
      size: 1,
      createWorker: () => {
        const worker = new FakeWorker()
        worker.postMessage = (message) => {
          if (message.kind !== 'hash') return
          queueMicrotask(() =>
            worker.onmessage?.({ data: { kind: 'read-error', id: message.id, name: 'NotReadableError', message: 'file changed' } } as MessageEvent<WorkerReply>),
          )
        }
        return worker
      },
    })
    await expect(pool.md5(new Blob([testBytes(10)]), live)).rejects.toMatchObject({ code: 'invalid_source', context: { reason: 'NotReadableError' } })
  })
})
