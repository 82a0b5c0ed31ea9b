/**
 * The calls to the key endpoint (uploads, batches, downloads). Every response goes through the protocol's parsers;
 * error bodies become `ValetError(code)` with `context.status`; network errors, 5xx and 429 are
 * retried with the shared policy.
 *
 * Until an endpoint has given one Valet answer (in this process or page), failures that mean
 * "wrong URL" or "nothing there" fail fast with what to fix ({@link firstContactError}): a key
 * server restarting is ridden out only once it is known to exist.
 */
import {
  TOKEN_HEADER,
  ValetError,
  isValetError,
  parseCompleteBatchResponse,
  parseCompleteUploadResponse,
  parseCreateBatchResponse,
  parseCreateUploadResponse,
  parseErrorBody,
  parseListPartsResponse,
  parseSignPartsResponse,
  parseOpenDownloadResponse,
  parseSignRangesResponse,
  type ByteRange,
  type OpenDownloadResponse,
  type SignedRange,
  type CompleteBatchItem,
  type CompleteUploadResponse,
  type CompletedPart,
  type CreateUploadRequest,
  type CreateUploadResponse,
  type PartToSign,
  type SignedPart,
  type StoredPart,
} from '@valet/protocol'
import { sleep } from '../engine/abort.js'
import type { SignTiming } from './key-timing.js'
import { itemResult, timingOf, tooMany, type BatchItemResult, type CreateResult } from './batch-items.js'
import { FIRST_CONTACT_WINDOW_MS, firstContactError, notAnEndpointError } from './first-contact.js'
import type { Clock, HttpRequest, HttpResponse, Transport } from '../ports.js'
import { classifyEndpointFailure, parseRetryAfter, retryDelay, type AttemptFailure, type BackoffOptions } from '../engine/retry-policy.js'

/** Endpoints that gave a Valet answer in this process (or page): from then on, outages are ridden out. */
const answered = new Set<string>()

export interface KeyEndpointOptions {
  endpoint: string
  headers: () => Promise<Record<string, string>>
  transport: Transport
  retries: number
  /** Retry network errors and 5xx for at least this long, ms, whatever `retries` says. */
  retryWindow: number
  /** Abandon an attempt with no answer after this long, ms; 0 = never. */
  requestTimeout: number
  /** Endpoints known to be Valet's (see the module comment); one set per process unless a test passes its own. */
  answered?: Set<string>
  backoff: BackoffOptions
  clock: Clock
}

export type { BatchItemResult, CreateResult } from './batch-items.js'

/** The calls one upload makes: a {@link KeyEndpoint}, or `uploadMany`'s batching front of one. */
export type KeyApi = Pick<KeyEndpoint, 'createUpload' | 'createTimed' | 'signParts' | 'listParts' | 'complete' | 'deleteUpload'>

export interface SignResult {
  parts: SignedPart[]
  timing: SignTiming
}

/** The start of a body, for error messages: enough to recognise an HTML error page or XML. */
export function snippet(body: string, max = 300): string {
  return body.length > max ? `${body.slice(0, max)}…` : body
}

function parseJson(res: HttpResponse, operation: string): unknown {
  try {
    return JSON.parse(res.body)
  } catch (cause) {
    throw new ValetError('server_error', `${operation}: the key endpoint answered ${res.status} with a body that is not JSON; check the endpoint option`, {
      cause,
      context: { status: res.status, operation, body: snippet(res.body) },
    })
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** A Valet error body as its `ValetError`, or `undefined` when something else answered. */
function valetErrorOf(res: HttpResponse, operation: string): ValetError | undefined {
  let body: unknown
  try {
    body = JSON.parse(res.body)
  } catch {
    return undefined
  }
  const parsed = parseErrorBody(body)
  return parsed && new ValetError(parsed.error.code, parsed.error.message, { context: { status: res.status, operation } })
}

function errorFromResponse(res: HttpResponse, operation: string, url: string): ValetError {
  return (
    valetErrorOf(res, operation) ??
    new ValetError('server_error', `${operation}: the key endpoint ${url} answered ${res.status}, not a Valet error; check the endpoint option (valet doctor --endpoint URL checks it)`, {
      context: { status: res.status, operation, url, body: snippet(res.body) },
    })
  )
}

/** @example `await api.createUpload({ name: 'a.bin', size: 10, type: '' }, signal)` */
export class KeyEndpoint {
  private readonly answered: Set<string>

  constructor(private readonly options: KeyEndpointOptions) {
    this.answered = options.answered ?? answered
  }

  createUpload(body: CreateUploadRequest, signal: AbortSignal): Promise<CreateUploadResponse> {
    return this.createTimed(body, signal).then((r) => r.created)
  }

  /** {@link createUpload} with the call's timing, for the keys a single-PUT create carries. */
  async createTimed(body: CreateUploadRequest, signal: AbortSignal): Promise<CreateResult> {
    const r = await this.call('create', { method: 'POST', path: '/uploads', body }, signal, parseCreateUploadResponse)
    return { created: r.value, timing: timingOf(r, r.value.serverTime) }
  }

  /**
   * `POST /uploads/batch` for at most {@link MAX_BATCH} creates: one result per body, in order.
   * The call as a whole retries like any other; items are not retried here (the batcher does).
   * Throws `not_found`/`method_not_allowed` from a server that predates batches.
   */
  async createBatch(bodies: CreateUploadRequest[], signal: AbortSignal): Promise<BatchItemResult<CreateResult>[]> {
    tooMany(bodies.length)
    const r = await this.call('create-batch', { method: 'POST', path: '/uploads/batch', body: { uploads: bodies } }, signal, (v) =>
      parseCreateBatchResponse(v, bodies.length),
    )
    const serverTime = r.value.serverTime
    return r.value.uploads.map((item) =>
      itemResult(item, 'create', (created: CreateUploadResponse) => ({ created, timing: timingOf(r, created.serverTime ?? serverTime) })),
    )
  }

  /** `POST /uploads/batch/complete` for at most {@link MAX_BATCH} completes; like {@link createBatch}. */
  async completeBatch(items: CompleteBatchItem[], signal: AbortSignal): Promise<BatchItemResult<CompleteUploadResponse>[]> {
    tooMany(items.length)
    const r = await this.call('complete-batch', { method: 'POST', path: '/uploads/batch/complete', body: { uploads: items } }, signal, (v) =>
      parseCompleteBatchResponse(v, items.length),
    )
    return r.value.uploads.map((item) => itemResult(item, 'complete', (done: CompleteUploadResponse) => done))
  }

  async signParts(uploadId: string, token: string, parts: PartToSign[], signal: AbortSignal): Promise<SignResult> {
    const path = `/uploads/${encodeURIComponent(uploadId)}/parts`
    const r = await this.call('sign', { method: 'POST', path, body: { token, parts } }, signal, parseSignPartsResponse)
    return {
      parts: r.value.parts,
      timing: { sentAt: r.sentAt, receivedAt: r.receivedAt, serverTime: Date.parse(r.value.serverTime) },
    }
  }

  async listParts(uploadId: string, token: string, signal: AbortSignal): Promise<StoredPart[]> {
    const path = `/uploads/${encodeURIComponent(uploadId)}/parts`
    const r = await this.call('list', { method: 'GET', path, token }, signal, parseListPartsResponse)
    return r.value.parts
  }

  complete(uploadId: string, token: string, parts: CompletedPart[], signal: AbortSignal): Promise<CompleteUploadResponse> {
    const path = `/uploads/${encodeURIComponent(uploadId)}/complete`
    return this.call('complete', { method: 'POST', path, body: { token, parts } }, signal, parseCompleteUploadResponse).then((r) => r.value)
  }

  /** `POST /downloads`: what the object is, how to verify it, and a download token. */
  async openDownload(key: string, signal: AbortSignal): Promise<OpenDownloadResponse> {
    return (await this.call('open-download', { method: 'POST', path: '/downloads', body: { key } }, signal, parseOpenDownloadResponse)).value
  }

  /** `POST /downloads/ranges`: read keys for at most `MAX_READ_RANGES` ranges, in order. */
  async signRanges(token: string, ranges: ByteRange[], signal: AbortSignal): Promise<{ ranges: SignedRange[]; timing: SignTiming }> {
    const r = await this.call('sign-ranges', { method: 'POST', path: '/downloads/ranges', body: { token, ranges } }, signal, parseSignRangesResponse)
    return { ranges: r.value.ranges, timing: { sentAt: r.sentAt, receivedAt: r.receivedAt, serverTime: Date.parse(r.value.serverTime) } }
  }

  async deleteUpload(uploadId: string, token: string, signal: AbortSignal): Promise<void> {
    await this.call('delete', { method: 'DELETE', path: `/uploads/${encodeURIComponent(uploadId)}`, token }, signal, undefined)
  }

  private async call<T>(
    operation: string,
    req: { method: HttpRequest['method']; path: string; body?: unknown; token?: string },
    signal: AbortSignal,
    parse: ((input: unknown) => T) | undefined,
  ): Promise<{ value: T; sentAt: number; receivedAt: number }> {
    const { transport, clock, retries, backoff, requestTimeout, retryWindow, endpoint } = this.options
    const startedAt = clock.now()
    const url = endpoint + req.path
    for (let attempt = 0; ; attempt++) {
      const known = this.answered.has(endpoint)
      const headers: Record<string, string> = { accept: 'application/json', ...(await this.options.headers()) }
      if (req.body !== undefined) headers['content-type'] = 'application/json'
      if (req.token !== undefined) headers[TOKEN_HEADER] = req.token
      const sentAt = clock.now()
      let failure: AttemptFailure
      let error: ValetError
      let retryAfter: number | undefined
      // A key server that accepts the connection and never answers must not hang the upload.
      // A plain timer, not AbortSignal.timeout inside AbortSignal.any: Node 20 can collect that
      // pair before it fires, and the attempt would then hang after all.
      const attempt$ = new AbortController()
      const timer = requestTimeout > 0 ? setTimeout(() => attempt$.abort(new Error('request timeout')), requestTimeout) : undefined
      const forward = (): void => attempt$.abort(signal.reason)
      signal.addEventListener('abort', forward, { once: true })
      if (signal.aborted) forward()
      const attemptSignal = attempt$.signal
      try {
        const res = await transport.request({
          method: req.method,
          url,
          headers,
          ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
          signal: attemptSignal,
        })
        const receivedAt = clock.now()
        if (res.status >= 200 && res.status < 300) {
          // An HTML page with 200 (a SPA's fallback route, a login page) at a URL never heard from.
          if (!known && parse !== undefined && !isJson(res.body)) throw notAnEndpointError(endpoint, req.method, url, res)
          const value = parse ? this.parseBody(res, operation, parse) : (undefined as T)
          this.answered.add(endpoint)
          return { value, sentAt, receivedAt }
        }
        const valetError = valetErrorOf(res, operation)
        if (valetError !== undefined) this.answered.add(endpoint)
        // A first answer that is not Valet's: a 404/405 or a page from something else at that URL.
        // A 5xx page there is a proxy with nothing behind it: retried below like a refused connection.
        else if (!known && res.status < 500 && res.status !== 429) throw notAnEndpointError(endpoint, req.method, url, res)
        error = valetError ?? errorFromResponse(res, operation, url)
        failure = { kind: 'status', status: res.status, body: res.body, ...(valetError === undefined ? {} : { code: valetError.code }) }
        retryAfter = parseRetryAfter(res.headers['retry-after'], receivedAt)
      } catch (e) {
        if (signal.aborted) throw signal.reason
        if (attemptSignal.aborted) {
          error = new ValetError('network_error', `${operation}: no answer from the key endpoint within ${requestTimeout} ms`, { cause: e, context: { operation } })
        } else if (!isValetError(e) || e.code !== 'network_error') {
          throw e
        } else {
          error = e
        }
        failure = { kind: 'network' }
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', forward)
      }
      if (classifyEndpointFailure(failure, operation) === 'fail') throw error
      const elapsed = clock.now() - startedAt
      if (!this.answered.has(endpoint)) {
        // Nothing Valet has answered at this URL yet: a few quick retries (a server still
        // starting), then what to fix, within FIRST_CONTACT_WINDOW_MS. A name that does not
        // resolve will not resolve on the next try either.
        const firstContact = firstContactError(endpoint, url, error, failure)
        const left = FIRST_CONTACT_WINDOW_MS - elapsed
        if (firstContact.context.cause === 'dns' || attempt >= retries || left <= 0) throw firstContact
        await sleep(Math.min(left, retryDelay(attempt + 1, failure, retryAfter, backoff)), signal)
        continue
      }
      if (attempt >= retries && elapsed >= retryWindow) {
        throw new ValetError('retries_exhausted', `${operation} failed after ${attempt + 1} attempts: ${error.message}`, {
          cause: error,
          context: { operation, ...error.context },
        })
      }
      await sleep(retryDelay(attempt + 1, failure, retryAfter, backoff), signal)
    }
  }

  private parseBody<T>(res: HttpResponse, operation: string, parse: (input: unknown) => T): T {
    try {
      return parse(parseJson(res, operation))
    } catch (e) {
      if (isValetError(e) && e.code === 'server_error') throw e
      throw new ValetError('server_error', `${operation}: the key endpoint sent an invalid response: ${(e as Error).message}`, {
        cause: e,
        context: { status: res.status, operation },
      })
    }
  }
}
