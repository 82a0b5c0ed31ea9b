/**
 * Test-only: a Valet in memory, as msw handlers. The key endpoint is the real `createValet` on
 * the in-memory storage provider, so the client is tested against the server it will meet, not
 * a copy that can drift; the storage side (fake-storage.ts) checks PUTs as real storage does and
 * stores the parts in that provider. Both count what the tests assert on, and either can be
 * faulted per call (`onEndpoint`, `onPut`).
 */
import { http, type HttpHandler } from 'msw'
import {
  parseCompleteBatchItem,
  parseCompleteUploadRequest,
  parseCreateUploadRequest,
  parseSignPartsRequest,
  type CompletedPart,
  type CreateUploadRequest,
} from '@valet/protocol'
import { createValetWith } from '../../../server/src/create-valet.js'
import { memoryStorage } from '../../../server/src/testing/memory-storage.js'
import { classify, type Op } from '../../../../test/support/key-calls.js'
import { STORAGE, fakeStorage, md5hex, storageStats, type FakeStorageOptions } from './fake-storage.js'

export { STORAGE, type PutInfo } from './fake-storage.js'
export type { MemoryUpload } from '../../../server/src/testing/memory-storage.js'

export const ENDPOINT = 'http://127.0.0.1:3000/api/valet'
/** The principal every call is authorized as (`createOnServer`-style calls carry no credentials). */
const PRINCIPAL = 'alice'

export interface FakeValetOptions extends FakeStorageOptions {
  /** The server's `partSize` option: what it plans unless the client sends a `partSize` hint. */
  partSize: number
  /** The key lifetime, ms (the public `keyTtl` is whole seconds; see `createValetWith`). */
  keyTtlMs: number
  /** Server (and storage) clock minus real clock. */
  clockOffsetMs: number
  /** More server options (policy: `allowedTypes`, `maxFileSize`...). */
  server?: { allowedTypes?: string[]; maxFileSize?: number; maxOpenUploads?: number }
  /** The in-memory store's single-PUT support (see `memoryStorage`). @default true */
  singlePut?: boolean | 'unconditional'
  /**
   * Return a response to answer a key-endpoint call with it; the server never sees that call,
   * unless the hook calls `forward` (to hold back or change the server's own answer).
   */
  onEndpoint?: (operation: Op, request: Request, forward: () => Promise<Response>) => Response | undefined | Promise<Response | undefined>
}

/** The body of a POST as the protocol reads it, or `undefined` if the server will refuse it anyway. */
async function bodyOf<T>(request: Request, parse: (input: unknown) => T): Promise<T | undefined> {
  try {
    return parse(await request.clone().json())
  } catch {
    return undefined
  }
}

function bodyOfItem<T>(item: unknown, parse: (input: unknown) => T): T | undefined {
  try {
    return parse(item)
  } catch {
    return undefined
  }
}

export function fakeValet(initial: Partial<FakeValetOptions> = {}) {
  const options: FakeValetOptions = { partSize: 1024, keyTtlMs: 60_000, clockOffsetMs: 0, putDelayMs: 0, etagStyle: 's3', ...initial }
  const serverNow = (): number => Date.now() + options.clockOffsetMs
  // Unit tests move kilobytes: parts of 500 bytes, not the 5 MiB real stores need.
  const memory = memoryStorage({
    baseUrl: STORAGE,
    limits: { minPartSize: 1, minPlannedPartSize: 1 },
    ...(options.singlePut === undefined ? {} : { singlePut: options.singlePut }),
  })
  /** Unexpected errors the server met (its `onError`): a 500 in a test is worth a look. */
  const errors: unknown[] = []
  const valet = createValetWith(
    {
      storage: memory.storage,
      secret: 'fake-valet-secret-of-at-least-32-bytes',
      authorize: () => ({ id: PRINCIPAL }),
      partSize: options.partSize,
      onComplete: () => ({ id: 42 }),
      onError: (error) => errors.push(error),
      ...options.server,
    },
    { now: serverNow, keyTtlMs: options.keyTtlMs },
  )
  const stats = {
    /** Uploads the server started in storage (an idempotent create's replay starts none). */
    get creates(): number {
      return memory.calls.filter((call) => call === 'create').length
    },
    /** Every create body the server got, in order (`requestId` included), batched ones too. */
    createBodies: [] as CreateUploadRequest[],
    /** Key-endpoint calls by route, faulted ones included. */
    calls: new Map<Op, number>(),
    /** Items of each batch create and batch complete call the server got. */
    createBatches: [] as number[],
    completeBatches: [] as number[],
    /** Sign calls the server answered with keys, and the part numbers of each. */
    signCalls: 0,
    signBatches: [] as number[][],
    lists: 0,
    /** The part lists of every complete the server got. */
    completes: [] as CompletedPart[][],
    deletes: 0,
    /** Headers of every key-endpoint call, faulted ones included. */
    endpointHeaders: [] as Headers[],
    ...storageStats(),
  }

  /** Counts what reaches the server; sign calls once the server answered them with keys. */
  async function forward(operation: Op, request: Request): Promise<Response> {
    if (operation === 'create') {
      const body = await bodyOf(request, parseCreateUploadRequest)
      if (body) stats.createBodies.push(body)
    }
    if (operation === 'complete') {
      const body = await bodyOf(request, parseCompleteUploadRequest)
      if (body) stats.completes.push(body.parts)
    }
    if (operation === 'create-batch') {
      const items = (await bodyOf(request, (v) => (v as { uploads: unknown[] }).uploads)) ?? []
      stats.createBatches.push(items.length)
      for (const item of items) {
        const body = bodyOfItem(item, parseCreateUploadRequest)
        if (body) stats.createBodies.push(body)
      }
    }
    if (operation === 'complete-batch') {
      const items = (await bodyOf(request, (v) => (v as { uploads: unknown[] }).uploads)) ?? []
      stats.completeBatches.push(items.length)
      items.forEach((item, i) => {
        const body = bodyOfItem(item, (v) => parseCompleteBatchItem(v, i))
        if (body) stats.completes.push(body.parts)
      })
    }
    if (operation === 'list') stats.lists++
    if (operation === 'abort') stats.deletes++
    const signed = operation === 'sign' ? await bodyOf(request, parseSignPartsRequest) : undefined
    const response = await valet.fetch(request)
    if (signed && response.ok) {
      stats.signCalls++
      stats.signBatches.push(signed.parts.map((p) => p.partNumber))
    }
    return response
  }

  const handlers: HttpHandler[] = [
    http.all(`${ENDPOINT}/*`, async ({ request }) => {
      const operation = classify(request.method, request.url)
      stats.endpointHeaders.push(request.headers)
      stats.calls.set(operation, (stats.calls.get(operation) ?? 0) + 1)
      return (await options.onEndpoint?.(operation, request, () => forward(operation, request))) ?? forward(operation, request)
    }),
    fakeStorage(memory, options, stats, serverNow),
  ]

  return { handlers, options, stats, uploads: memory.uploads, memory, errors, md5hex }
}

/** Deterministic bytes, different per seed. */
export function testBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size)
  let x = seed * 2654435761
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}
