/**
 * One range, from read key to committed, checked bytes: GET with the range's key, stream the
 * body into staging (and an MD5 where the range can be checked), check it, and on failure
 * classify, re-sign and retry, or fail the download with a typed error.
 */
import { ValetError, isValetError, sameEtag, type ByteRange } from '@valet/protocol'
import { linkSignals, sleep } from '../engine/abort.js'
import { stallTimer } from '../engine/stall-timer.js'
import { classifyPartFailure, parseRetryAfter, retryDelay, type AttemptFailure, type BackoffOptions } from '../engine/retry-policy.js'
import { snippet } from '../keys/key-endpoint.js'
import type { Clock } from '../ports.js'
import type { DownloadSink, Md5Stream, RangeFetcher } from './download-ports.js'
import type { DownloadTracker } from './download-progress.js'
import type { RangeKey, RangeKeys } from './range-keys.js'

export interface RangeContext {
  ranges: readonly ByteRange[]
  /** Base64 MD5 each range must have, where storage recorded one (part-aligned ranges). */
  expectedMd5(index: number): string | undefined
  etag: string
  size: number
  keys: RangeKeys
  sink: DownloadSink
  fetcher: RangeFetcher
  md5(): Promise<Md5Stream>
  progress: DownloadTracker
  clock: Clock
  retries: number
  backoff: BackoffOptions
  stallTimeout: number
  /** Bytes committed for the whole download so far: progress elsewhere resets a range's retry count. */
  committed(): number
}

/** The object at the key is no longer the version this download opened (412, another ETag or size). */
export class ObjectChanged extends Error {
  constructor(readonly detail: string) {
    super(detail)
  }
}

type Outcome = { ok: true } | { ok: false; failure: AttemptFailure; error: ValetError; retryAfter?: number }

/** However often the download progresses, one range gets at most this many times `retries + 1` attempts. */
const ATTEMPT_CEILING_FACTOR = 4

/**
 * Fetches range `index` into staging and commits it. Rejects with the signal's reason when
 * paused or aborted, {@link ObjectChanged} when storage has another version, `storage_rejected`
 * on a refusal retrying can't fix, `retries_exhausted` (cause: the last error) when retries run out.
 */
export async function fetchRange(ctx: RangeContext, index: number, signal: AbortSignal): Promise<void> {
  let failures = 0
  let attempts = 0
  let mark = ctx.committed()
  for (;;) {
    const key = await ctx.keys.keyFor(index, signal)
    const started = ctx.clock.now()
    let outcome: Outcome
    try {
      outcome = await attempt(ctx, index, key, signal)
    } catch (e) {
      // Paused, aborted, or a failure that ends the download: these bytes no longer count.
      ctx.progress.rolledBack(index)
      throw e
    }
    if (outcome.ok) {
      ctx.keys.recordRangeTime(ctx.clock.now() - started)
      return
    }
    ctx.progress.rolledBack(index)
    ctx.keys.invalidate(index)
    const { failure, error } = outcome
    if (failure.kind === 'status' && failure.status === 412) throw new ObjectChanged(`storage answered 412 to range ${index}: the object was replaced`)
    if (classifyPartFailure(failure, ctx.keys.nearExpiry(key)) === 'fail') throw error
    attempts++
    if (ctx.committed() > mark) {
      mark = ctx.committed()
      failures = 0
    }
    failures++
    if (failures > ctx.retries || attempts >= ATTEMPT_CEILING_FACTOR * (ctx.retries + 1)) {
      throw new ValetError('retries_exhausted', `range ${index} failed ${attempts} times; last error: ${error.message}`, {
        cause: error,
        context: { range: index, attempts, ...error.context },
      })
    }
    await sleep(retryDelay(failures, failure, outcome.retryAfter, ctx.backoff), signal)
  }
}

/** `bytes a-b/total` → its numbers; undefined when absent or not that shape. */
function parseContentRange(value: string | undefined): { first: number; last: number; total: number } | undefined {
  const m = value === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim())
  return m === null ? undefined : { first: Number(m[1]), last: Number(m[2]), total: Number(m[3]) }
}

function rangeError(index: number, message: string, context: Record<string, unknown> = {}): ValetError {
  return new ValetError('checksum_mismatch', `range ${index}: ${message}`, { context: { range: index, ...context } })
}

async function attempt(ctx: RangeContext, index: number, key: RangeKey, signal: AbortSignal): Promise<Outcome> {
  const range = ctx.ranges[index] as ByteRange
  const length = range.end - range.start
  const expected = ctx.expectedMd5(index)
  const hash = expected === undefined ? undefined : await ctx.md5()
  const writer = await ctx.sink.writer(range.start, range.end)
  const run = linkSignals(signal)
  const stall = stallTimer(ctx.stallTimeout, ctx.clock, () =>
    run.abort(new ValetError('network_error', `range ${index} received nothing for ${ctx.stallTimeout} ms`, { context: { range: index } })),
  )
  let received = 0
  let committed = false
  try {
    const res = await ctx.fetcher.get({
      url: key.url,
      headers: key.headers,
      signal: run.signal,
      // Synchronous unless the writer asks to wait: the socket is paused only for backpressure.
      onChunk: (chunk) => {
        stall.touch()
        if (received + chunk.byteLength > length) throw rangeError(index, `storage sent more than the ${length} bytes asked for`)
        hash?.update(chunk)
        received += chunk.byteLength
        ctx.progress.received(index, received)
        return writer.write(chunk)
      },
    })
    stall.stop()
    if (res.status < 200 || res.status >= 300) {
      const error = new ValetError('storage_rejected', `storage answered ${res.status} to range ${index}`, {
        context: { status: res.status, range: index, body: snippet(res.body) },
      })
      return { ok: false, failure: { kind: 'status', status: res.status, body: res.body }, error, retryAfter: parseRetryAfter(res.headers['retry-after'], ctx.keys.serverNow()) }
    }
    const etag = res.headers.etag
    if (etag !== undefined && !sameEtag(etag, ctx.etag)) throw new ObjectChanged(`range ${index} came from another version (ETag ${etag}, opened ${ctx.etag})`)
    const span = parseContentRange(res.headers['content-range'])
    if (span !== undefined && span.total !== ctx.size) throw new ObjectChanged(`range ${index}: the object is now ${span.total} bytes, opened at ${ctx.size}`)
    // A 206 whose Content-Range this client cannot read is a setup problem, not a bad transfer:
    // in a browser, the bucket's CORS rule does not expose the header. Retrying can't fix it.
    if (span === undefined && res.status === 206) {
      const error = new ValetError('storage_rejected', `storage answered range ${index} without a Content-Range header this client can read: the bucket's CORS rule must expose Content-Range and ETag (valet doctor --endpoint URL checks it)`, {
        context: { status: res.status, range: index },
      })
      return { ok: false, failure: { kind: 'status', status: res.status }, error }
    }
    // A whole-object answer (200, no Content-Range) is only right for a range that is the whole object.
    if (span === undefined ? res.status !== 200 || length !== ctx.size : span.first !== range.start || span.last !== range.end - 1) {
      return checksumFailure(rangeError(index, `storage answered ${res.status} with ${res.headers['content-range'] ?? 'no Content-Range'}, not bytes ${range.start}-${range.end - 1}`))
    }
    if (received !== length) {
      return { ok: false, failure: { kind: 'network' }, error: new ValetError('network_error', `range ${index}: the body ended after ${received} of ${length} bytes`, { context: { range: index } }) }
    }
    if (hash !== undefined && hash.digest() !== expected) {
      return checksumFailure(rangeError(index, `its bytes do not match the MD5 storage recorded; fetching it again`, { expected }))
    }
    await writer.commit()
    committed = true
    ctx.progress.done(index, length)
    return { ok: true }
  } catch (e) {
    if (signal.aborted) throw signal.reason
    if (e instanceof ObjectChanged) throw e
    if (isValetError(e) && (e.code === 'network_error' || e.code === 'checksum_mismatch')) {
      return e.code === 'network_error' ? { ok: false, failure: { kind: 'network' }, error: e } : checksumFailure(e)
    }
    throw e
  } finally {
    stall.stop()
    run.dispose()
    if (!committed) await writer.discard().catch(() => {})
  }
}

function checksumFailure(error: ValetError): Outcome {
  return { ok: false, failure: { kind: 'checksum' }, error }
}
