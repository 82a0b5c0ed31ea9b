import { createHash } from 'node:crypto'
import { HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import axios from 'axios'
import { createAxiosTransport } from '../http/axios-transport.js'
import { bindUploader } from '../create-uploader.js'
import { ENDPOINT, testBytes } from '../testing/fake-valet.js'
import { useFakeValet } from '../testing/msw-server.js'
import { browserPlatform } from './browser-platform.js'
import { withHashAhead } from './hash-ahead.js'
import { createMd5Pool, type WorkerLike } from './md5-pool.js'
import { materialize } from './part-ref.js'
import { isRangeBody, type WorkerReply, type WorkerRequest } from './worker-protocol.js'
import { createWorkerTransport } from './worker-transport.js'

const { setup } = useFakeValet({ partSize: 1000 })

/** The sending worker's job done in this thread with fetch: what the real one does with XHR. */
class FetchingSender implements WorkerLike {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  onmessageerror: ((event: MessageEvent) => void) | null = null
  postMessage(message: WorkerRequest): void {
    if (message.kind !== 'put') return
    const reply = (data: WorkerReply) => this.onmessage?.({ data } as MessageEvent<WorkerReply>)
    const body = isRangeBody(message.body) ? message.body.file.slice(message.body.start, message.body.end) : message.body
    fetch(message.url, { method: message.method, headers: message.headers, body }).then(
      async (res) => {
        reply({ kind: 'progress', id: message.id, loaded: body instanceof Blob ? body.size : body.byteLength })
        const headers: Record<string, string> = {}
        res.headers.forEach((v, k) => (headers[k] = v))
        reply({ kind: 'response', id: message.id, status: res.status, headers, body: await res.text() })
      },
      () => reply({ kind: 'network-error', id: message.id, message: 'Network Error' }),
    )
  }
  terminate(): void {}
}

const mainThread = () => createAxiosTransport({ axios, adapter: 'fetch', toBody: materialize })

function uploader(viaWorker: boolean) {
  const hasher = withHashAhead(createMd5Pool({ size: 2, createWorker: undefined }), { ahead: 2 })
  const transport = createWorkerTransport({ createWorker: viaWorker ? () => new FetchingSender() : undefined, fallback: mainThread() })
  return bindUploader(browserPlatform({ hasher, transport }))({ endpoint: ENDPOINT, resume: false, concurrency: 2, retryDelay: 1, maxRetryDelay: 5 })
}

const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex')

describe('the browser binding, end to end against a fake Valet', () => {
  for (const viaWorker of [true, false]) {
    it(`uploads a File by byte ranges, parts sent ${viaWorker ? 'from the sending worker' : 'from this thread'}`, async () => {
      const fake = setup()
      const bytes = testBytes(4500, 3)
      const progress: number[] = []
      const result = await uploader(viaWorker).upload(new File([bytes], 'data.bin'), { onProgress: (p) => progress.push(p.bytesSent) }).done
      expect(result.size).toBe(4500)
      const parts = [...fake.uploads.values()][0]!.parts
      expect([...parts.keys()].sort()).toEqual([1, 2, 3, 4, 5])
      expect(parts.get(5)?.etag).toBe(`"${md5hex(bytes.subarray(4000))}"`)
      expect(progress.at(-1)).toBe(4500)
    })
  }

  it('a PUT that fails as a network error (a CORS-less 403) is signed again and retried', async () => {
    const fake = setup()
    fake.options.onPut = ({ partNumber, attempt }) => (partNumber === 2 && attempt === 1 ? HttpResponse.error() : undefined)
    await uploader(true).upload(new File([testBytes(3000)], 'data.bin')).done
    expect(fake.stats.puts.get(2)).toBe(2)
    expect(fake.stats.signBatches.filter((b) => b.includes(2))).toHaveLength(2)
  })
})
