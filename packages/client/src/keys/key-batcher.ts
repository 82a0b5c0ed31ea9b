/**
 * Coalesces the creates and completes of many uploads into batch calls (`POST /uploads/batch`,
 * `POST /uploads/batch/complete`), so a thousand small files cost tens of key calls, not
 * thousands. Each upload still sees exactly what its own route would have answered: its answer
 * or its typed `ValetError`. An item failing for a reason worth retrying (429, 5xx,
 * `storage_error`) is retried alone, under the same policy as a single call, in a later batch.
 * A server that predates batches (404 `not_found` / 405 on the route) gets single calls.
 */
import {
  MAX_BATCH,
  MAX_BODY_BYTES,
  ValetError,
  isValetError,
  type CompleteBatchItem,
  type CompleteUploadResponse,
  type CompletedPart,
  type CreateUploadRequest,
} from '@valet/protocol'
import pLimit from 'p-limit'
import { raceSignal } from '../engine/abort.js'
import { classifyEndpointFailure, retryDelay, type BackoffOptions } from '../engine/retry-policy.js'
import type { BatchItemResult, CreateResult, KeyApi, KeyEndpoint } from './key-endpoint.js'
import type { Clock } from '../ports.js'

export interface KeyBatcherOptions {
  retries: number
  retryWindow: number
  backoff: BackoffOptions
  clock: Clock
  /** How long a first waiting complete waits for others before its batch goes out, ms. */
  delay: number
  /** The same for creates: a backstop, as creates also go once {@link createsIdle}. */
  createDelay: number
  /** True when no other complete can come soon (no file is sending): waiting longer gains nothing. */
  completesIdle(): boolean
  /** True when no file is still getting ready to create (opening, hashing): the batch is whole. */
  createsIdle(): boolean
}

/** Body bytes one batch call may carry: half the endpoint's limit, for JSON escaping and headroom. */
const MAX_BATCH_BYTES = MAX_BODY_BYTES / 2
/**
 * Batch calls in flight at once: more would only split what one call can carry. Completes go one
 * call at a time: those arriving while it is out (a batch of completes takes the server a few
 * storage reads each) gather into the next one.
 */
const CALLS_IN_FLIGHT = { create: 2, complete: 1 } as const
/** Single calls in flight at once per route when the server has no batch routes. */
const SINGLE_CALLS = 4

/** What one kind of batch call needs. */
interface Route<I, R> {
  operation: 'create' | 'complete'
  delay: number
  batch(items: I[], signal: AbortSignal): Promise<BatchItemResult<R>[]>
  single(item: I, signal: AbortSignal): Promise<R>
  idle(): boolean
}

/** The codes with which a server that has no batch routes answers them. */
const NO_BATCH_ROUTE = new Set(['not_found', 'method_not_allowed'])
/**
 * Before a batch call ever worked: an older server takes `POST /uploads/batch/complete` for the
 * complete of an upload called "batch", and refuses the body or the missing token.
 */
const NO_BATCH_ROUTE_UNPROVEN = new Set([...NO_BATCH_ROUTE, 'bad_request', 'token_invalid'])

/** Whether batches work with this server: unknown until a batch call answers. */
class BatchSupport {
  state: 'unknown' | 'yes' | 'no' = 'unknown'

  noRoute(e: unknown): boolean {
    if (!isValetError(e) || this.state === 'yes') return false
    const codes = this.state === 'unknown' ? NO_BATCH_ROUTE_UNPROVEN : NO_BATCH_ROUTE
    return codes.has(e.code)
  }
}

interface Pending<I, R> {
  item: I
  resolve(value: R): void
  reject(error: unknown): void
  attempts: number
  since: number
}

/** One kind of batch call: items wait in a queue, go out up to {@link MAX_BATCH} at a time. */
class Queue<I, R> {
  private waiting: Pending<I, R>[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly singles = pLimit(SINGLE_CALLS)
  /** Batch calls in flight: a flush while one is out is not "idle". */
  inFlight = 0

  constructor(
    private readonly route: Route<I, R>,
    private readonly options: KeyBatcherOptions,
    private readonly signal: AbortSignal,
    private readonly support: BatchSupport,
  ) {}

  submit(item: I, signal: AbortSignal): Promise<R> {
    // After the whole run was aborted, cleanup calls (an aborted create's DELETE) still go out, alone.
    if (this.signal.aborted || this.support.state === 'no') return this.route.single(item, signal)
    const result = new Promise<R>((resolve, reject) => this.enqueue({ item, resolve, reject, attempts: 0, since: this.options.clock.now() }))
    return raceSignal(result, signal)
  }

  /** Sends what waits now when nothing else could join it soon. */
  poke(): void {
    if (this.waiting.length > 0 && this.route.idle()) this.flush()
  }

  private enqueue(p: Pending<I, R>): void {
    this.waiting.push(p)
    if (this.waiting.length >= MAX_BATCH || this.route.idle()) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.route.delay)
  }

  /**
   * How many waiting items one call carries: at most {@link MAX_BATCH}, and a body well under
   * the endpoint's 1 MiB (a complete of a 10,000-part upload alone is ~0.6 MiB). At least one.
   */
  private fits(): number {
    let bytes = 0
    let n = 0
    for (const p of this.waiting) {
      if (n >= MAX_BATCH) break
      bytes += JSON.stringify(p.item).length + 1
      if (n > 0 && bytes > MAX_BATCH_BYTES) break
      n++
    }
    return n
  }

  private flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    // What arrives while the calls are out waits for one to end and goes in the next call.
    while (this.waiting.length > 0 && this.inFlight < CALLS_IN_FLIGHT[this.route.operation]) {
      const chunk = this.waiting.splice(0, this.fits())
      this.inFlight++
      void this.send(chunk).finally(() => {
        this.inFlight--
        if (this.waiting.length > 0) this.flush()
      })
    }
  }

  private async send(chunk: Pending<I, R>[]): Promise<void> {
    // A batch of one is the item's own route: the same one call, and what every server knows.
    if (this.support.state === 'no' || chunk.length === 1) return this.sendSingly(chunk)
    let results: BatchItemResult<R>[]
    try {
      results = await this.route.batch(
        chunk.map((p) => p.item),
        this.signal,
      )
      this.support.state = 'yes'
    } catch (e) {
      if (this.support.noRoute(e)) {
        this.support.state = 'no'
        return this.sendSingly(chunk)
      }
      for (const p of chunk) p.reject(e)
      return
    }
    results.forEach((r, i) => {
      const p = chunk[i] as Pending<I, R>
      if (r.ok) p.resolve(r.value)
      else this.failed(p, r.error, r.status)
    })
  }

  /** An older server: the items one by one, a few at a time (a batch's worth at once would be a burst). */
  private sendSingly(chunk: Pending<I, R>[]): void {
    for (const p of chunk) this.singles(() => this.route.single(p.item, this.signal)).then(p.resolve, p.reject)
  }

  /** One item's failure: retried later on its own count, like a single call's attempt, or final. */
  private failed(p: Pending<I, R>, error: ValetError, status: number): void {
    const { retries, retryWindow, backoff, clock } = this.options
    const failure = { kind: 'status' as const, status, code: error.code }
    const { operation } = this.route
    if (classifyEndpointFailure(failure, operation) === 'fail') return p.reject(error)
    p.attempts++
    if (p.attempts > retries && clock.now() - p.since >= retryWindow) {
      return p.reject(
        new ValetError('retries_exhausted', `${operation} failed after ${p.attempts} attempts: ${error.message}`, {
          cause: error,
          context: { operation, ...error.context },
        }),
      )
    }
    const wait = retryDelay(p.attempts, failure, undefined, backoff)
    const timer = setTimeout(() => {
      this.signal.removeEventListener('abort', stop)
      this.enqueue(p)
    }, wait)
    const stop = (): void => {
      clearTimeout(timer)
      p.reject(this.signal.reason)
    }
    this.signal.addEventListener('abort', stop, { once: true })
  }
}

/**
 * A {@link KeyApi} whose creates and completes are batched; signing, listing and DELETE go
 * straight to the endpoint (they are per upload and rare for small files).
 *
 * @example
 * ```ts
 * const batcher = new KeyBatcher(endpoint, { retries: 5, retryWindow: 30_000, backoff, clock, delay: 20, createDelay: 200, completesIdle: () => false, createsIdle: () => true }, signal)
 * const { created } = await batcher.createTimed({ name: 'a.txt', size: 3, type: 'text/plain' }, signal)
 * ```
 */
export class KeyBatcher implements KeyApi {
  private readonly creates: Queue<CreateUploadRequest, CreateResult>
  private readonly completes: Queue<CompleteBatchItem, CompleteUploadResponse>

  constructor(
    private readonly endpoint: KeyEndpoint,
    options: KeyBatcherOptions,
    signal: AbortSignal,
  ) {
    const support = new BatchSupport()
    const creates: Route<CreateUploadRequest, CreateResult> = {
      operation: 'create',
      batch: (items, s) => endpoint.createBatch(items, s),
      single: (item, s) => endpoint.createTimed(item, s),
      delay: options.createDelay,
      idle: () => options.createsIdle(),
    }
    const completes: Route<CompleteBatchItem, CompleteUploadResponse> = {
      operation: 'complete',
      batch: (items, s) => endpoint.completeBatch(items, s),
      single: (item, s) => endpoint.complete(item.uploadId, item.token, item.parts, s),
      delay: options.delay,
      idle: () => options.completesIdle(),
    }
    this.creates = new Queue(creates, options, signal, support)
    this.completes = new Queue(completes, options, signal, support)
  }

  /** Batch calls in flight. */
  get inFlight(): number {
    return this.creates.inFlight + this.completes.inFlight
  }

  /** Sends waiting items now if nothing else can join them soon (see {@link KeyBatcherOptions}). */
  poke(): void {
    this.creates.poke()
    this.completes.poke()
  }

  /** The longest lifetime of a key a create carried (single-PUT), ms; `undefined` before one. */
  keyLifetime: number | undefined

  async createTimed(body: CreateUploadRequest, signal: AbortSignal): Promise<CreateResult> {
    const r = await this.creates.submit(body, signal)
    const key = r.created.parts?.[0]
    if (key !== undefined) this.keyLifetime = Math.max(this.keyLifetime ?? 0, Date.parse(key.expiresAt) - r.timing.serverTime)
    return r
  }

  createUpload(body: CreateUploadRequest, signal: AbortSignal): Promise<CreateResult['created']> {
    return this.createTimed(body, signal).then((r) => r.created)
  }

  complete(uploadId: string, token: string, parts: CompletedPart[], signal: AbortSignal): Promise<CompleteUploadResponse> {
    return this.completes.submit({ uploadId, token, parts }, signal)
  }

  signParts(...args: Parameters<KeyEndpoint['signParts']>): ReturnType<KeyEndpoint['signParts']> {
    return this.endpoint.signParts(...args)
  }

  listParts(...args: Parameters<KeyEndpoint['listParts']>): ReturnType<KeyEndpoint['listParts']> {
    return this.endpoint.listParts(...args)
  }

  deleteUpload(...args: Parameters<KeyEndpoint['deleteUpload']>): ReturnType<KeyEndpoint['deleteUpload']> {
    return this.endpoint.deleteUpload(...args)
  }
}
