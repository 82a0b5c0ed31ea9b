import { describe, expect, it, vi } from 'vitest'
import type { HttpRequest, HttpResponse, Transport } from '../ports.js'
import type { WorkerLike } from './md5-pool.js'
import { PartRef, type BrowserBody } from './part-ref.js'
import { isRangeBody, parseHeaders, type WorkerReply, type WorkerRequest } from './worker-protocol.js'
import { createWorkerTransport } from './worker-transport.js'

type Put = Extract<WorkerRequest, { kind: 'put' }>

/** A sending worker in this thread: `answer` decides what each PUT gets. */
class FakeSender implements WorkerLike {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  onmessageerror: ((event: MessageEvent) => void) | null = null
  puts: Put[] = []
  aborts: number[] = []
  terminated = false
  constructor(private readonly answer: (put: Put, reply: (r: WorkerReply) => void) => void) {}
  postMessage(message: WorkerRequest): void {
    if (message.kind === 'abort') this.aborts.push(message.id)
    if (message.kind !== 'put') return
    this.puts.push(message)
    this.answer(message, (r) => queueMicrotask(() => this.onmessage?.({ data: r } as MessageEvent<WorkerReply>)))
  }
  terminate(): void {
    this.terminated = true
  }
}

function fallback(): Transport<BrowserBody> & { calls: HttpRequest<BrowserBody>[] } {
  const calls: HttpRequest<BrowserBody>[] = []
  return { calls, request: async (r) => (calls.push(r), { status: 200, headers: {}, body: '{"ok":true}' }) }
}

const put = (body: HttpRequest<BrowserBody>['body'], extra: Partial<HttpRequest<BrowserBody>> = {}): HttpRequest<BrowserBody> => ({
  method: 'PUT',
  url: 'http://storage.test/bucket/key?partNumber=1&X-Amz-Signature=secret',
  headers: { 'Content-MD5': 'abc==' },
  body,
  signal: new AbortController().signal,
  ...extra,
})

describe('worker transport', () => {
  it('sends parts from the worker as ranges, with progress, and returns the response', async () => {
    const sender = new FakeSender((p, reply) => {
      reply({ kind: 'progress', id: p.id, loaded: 100 })
      reply({ kind: 'response', id: p.id, status: 200, headers: { etag: '"x"' }, body: '' })
    })
    const main = fallback()
    const transport = createWorkerTransport({ createWorker: () => sender, fallback: main })
    const progress: number[] = []
    const file = new Blob([new Uint8Array(1000)])
    const response = await transport.request(put(new PartRef(file, 100, 600), { onUploadProgress: (n) => progress.push(n) }))
    expect(response).toEqual<HttpResponse>({ status: 200, headers: { etag: '"x"' }, body: '' })
    expect(progress).toEqual([100])
    const sent = sender.puts[0]!
    expect(isRangeBody(sent.body) && [sent.body.start, sent.body.end]).toEqual([100, 600])
    expect(sent.headers).toEqual({ 'Content-MD5': 'abc==' })
    expect(sent.progress).toBe(true)
    expect(main.calls).toHaveLength(0)
  })

  it('sends JSON calls (the key endpoint) from this thread', async () => {
    const sender = new FakeSender(() => {})
    const main = fallback()
    const transport = createWorkerTransport({ createWorker: () => sender, fallback: main })
    await transport.request({ method: 'POST', url: '/api/valet/uploads', headers: {}, body: '{}', signal: new AbortController().signal })
    expect(main.calls).toHaveLength(1)
    expect(sender.puts).toHaveLength(0)
  })

  it('reports a CORS-hidden refusal as network_error, without the signed query', async () => {
    const sender = new FakeSender((p, reply) => reply({ kind: 'network-error', id: p.id, message: 'Network Error' }))
    const transport = createWorkerTransport({ createWorker: () => sender, fallback: fallback() })
    const failure = transport.request(put(new Blob(['x'])))
    await expect(failure).rejects.toMatchObject({ code: 'network_error' })
    await expect(failure).rejects.not.toThrow(/secret/)
  })

  it('aborts: rejects with the signal’s reason at once and tells the worker', async () => {
    const sender = new FakeSender(() => {})
    const transport = createWorkerTransport({ createWorker: () => sender, fallback: fallback() })
    const controller = new AbortController()
    const pending = transport.request(put(new Blob(['x']), { signal: controller.signal }))
    controller.abort(new Error('paused'))
    await expect(pending).rejects.toThrow('paused')
    expect(sender.aborts).toEqual([sender.puts[0]!.id])
  })

  it('a worker that fails fails its requests as network errors, and later parts go from this thread', async () => {
    const sender = new FakeSender(() => {})
    const main = fallback()
    const transport = createWorkerTransport({ createWorker: () => sender, fallback: main })
    const pending = transport.request(put(new Blob(['x'])))
    await Promise.resolve()
    sender.onerror?.(new Event('error'))
    await expect(pending).rejects.toMatchObject({ code: 'network_error' })
    expect(sender.terminated).toBe(true)
    await transport.request(put(new PartRef(new Blob(['abc']), 0, 2)))
    expect(main.calls).toHaveLength(1)
  })

  it('uses this thread when no worker can start', async () => {
    const main = fallback()
    const transport = createWorkerTransport({
      createWorker: () => {
        throw new Error('CSP')
      },
      fallback: main,
    })
    await transport.request(put(new Blob(['x'])))
    expect(main.calls).toHaveLength(1)
  })

  it('stops the idle worker and starts a new one when needed', async () => {
    vi.useFakeTimers()
    try {
      const senders: FakeSender[] = []
      const transport = createWorkerTransport({
        createWorker: () => {
          const s = new FakeSender((p, reply) => reply({ kind: 'response', id: p.id, status: 200, headers: {}, body: '' }))
          senders.push(s)
          return s
        },
        fallback: fallback(),
        idleTimeout: 500,
      })
      await transport.request(put(new Blob(['x'])))
      vi.advanceTimersByTime(501)
      expect(senders[0]!.terminated).toBe(true)
      await transport.request(put(new Blob(['y'])))
      expect(senders).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('parses response headers to lower case, joining repeats', () => {
    expect(parseHeaders('ETag: "a"\r\nX-Amz-Id: 1\r\nx-amz-id: 2\r\n')).toEqual({ etag: '"a"', 'x-amz-id': '1, 2' })
  })
})
