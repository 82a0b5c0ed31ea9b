/**
 * One part, from key to verified etag: PUT with the part's valet key, check the answer, and on
 * failure classify, re-sign and retry, or fail the upload with a typed error.
 */
import { ValetError, base64ToHex, isValetError, partSizeOf, type PartPlan } from '@valet/protocol'
import { linkSignals, sleep } from './abort.js'
import type { KeyCache } from '../keys/key-cache.js'
import { snippet } from '../keys/key-endpoint.js'
import type { ValetKey } from '../keys/key-timing.js'
import { partEtagFromResponse } from './part-etag.js'
import { stallTimer } from './stall-timer.js'
import type { PartReader } from './part-reader.js'
import type { Clock, Transport } from '../ports.js'
import type { ProgressTracker } from './progress-tracker.js'
import { classifyPartFailure, parseRetryAfter, retryDelay, type AttemptFailure, type BackoffOptions } from './retry-policy.js'

export interface PartContext<B> {
  plan: PartPlan
  keys: KeyCache
  reader: PartReader<B>
  transport: Transport<B>
  progress: ProgressTracker
  clock: Clock
  retries: number
  backoff: BackoffOptions
  stallTimeout: number
  /** Bytes storage has acknowledged for the whole upload (done parts). */
  acknowledged(): number
  /** A single-PUT upload: its one PUT may find the object already written (see {@link uploadPart}). */
  single?: boolean
}

type Outcome =
  | { etag: string }
  | { failure: AttemptFailure; error: ValetError; retryAfter?: number }

/**
 * However often the upload progresses, one part gets at most this many times `retries + 1`
 * attempts: progress elsewhere resets its count, and that must not mean forever.
 */
const ATTEMPT_CEILING_FACTOR = 4

/**
 * Uploads part `n` and returns its verified etag. Rejects with the signal's reason when paused
 * or aborted, `storage_rejected` on a refusal retrying can't fix, `retries_exhausted` (cause:
 * the last error) when the retries run out.
 *
 * The retry count is per part and starts over when the upload made progress (another part was
 * stored) since this part's last failure: storage evidently works, so this part's failures are
 * the transient kind. Parts are atomic in storage, so "acknowledged bytes" only grow that way.
 */
export async function uploadPart<B>(ctx: PartContext<B>, n: number, signal: AbortSignal): Promise<string> {
  const size = partSizeOf(ctx.plan, n)
  let failures = 0
  let attempts = 0
  let progressMark = ctx.acknowledged()
  for (;;) {
    let key: ValetKey
    try {
      key = await ctx.keys.keyFor(n, signal)
    } catch (e) {
      // A single upload's key is signed until the object exists: a PUT whose answer was lost
      // landed. Complete verifies the object, so going there is safe either way.
      if (ctx.single === true && isValetError(e) && e.code === 'upload_not_found') return landed(ctx, n, size, signal)
      throw e
    }
    // Sources deliver exactly the range asked for, or throw `invalid_source`.
    const body = await ctx.reader.read(n, signal)
    const started = ctx.clock.now()
    const outcome = await putPart(ctx, key, body, n, size, signal)
    // Write-once: 412 means an object is at the key, and only these bytes can be (the key and
    // MD5 are this upload's): an earlier PUT of ours landed. Complete checks it.
    if (ctx.single === true && 'failure' in outcome && outcome.failure.kind === 'status' && outcome.failure.status === 412) {
      return landed(ctx, n, size, signal)
    }
    if ('etag' in outcome) {
      ctx.keys.recordPartTime(ctx.clock.now() - started)
      ctx.progress.partDone(n, size)
      ctx.reader.release(n)
      return outcome.etag
    }
    ctx.progress.partRolledBack(n)
    const verdict = classifyPartFailure(outcome.failure, ctx.keys.nearExpiry(key))
    // Any failure on a key may be its expiry, which browsers can't see: never reuse it.
    ctx.keys.invalidate(n)
    if (verdict === 'fail') throw outcome.error
    attempts++
    if (ctx.acknowledged() > progressMark) {
      progressMark = ctx.acknowledged()
      failures = 0
    }
    failures++
    if (failures > ctx.retries || attempts >= ATTEMPT_CEILING_FACTOR * (ctx.retries + 1)) {
      throw new ValetError('retries_exhausted', `part ${n} failed ${attempts} times; last error: ${outcome.error.message}`, {
        cause: outcome.error,
        context: { partNumber: n, attempts, ...outcome.error.context },
      })
    }
    await sleep(retryDelay(failures, outcome.failure, outcome.retryAfter, ctx.backoff), signal)
  }
}

/** The object of a single upload is already stored: its etag is S3's for one PUT (hex MD5), which complete doesn't trust anyway. */
async function landed<B>(ctx: PartContext<B>, n: number, size: number, signal: AbortSignal): Promise<string> {
  const etag = `"${base64ToHex(await ctx.reader.md5(n, signal))}"`
  ctx.progress.partDone(n, size)
  ctx.reader.release(n)
  return etag
}

function partHeaders(key: ValetKey): Record<string, string> {
  const headers = { ...key.headers }
  const given = Object.keys(headers).find((h) => h.toLowerCase() === 'content-md5')
  if (given === undefined) headers['Content-MD5'] = key.md5
  else if (headers[given] !== key.md5) {
    throw new ValetError('server_error', `the key for part ${key.partNumber} is signed for another MD5`, {
      context: { partNumber: key.partNumber, signed: headers[given], md5: key.md5 },
    })
  }
  return headers
}

async function putPart<B>(ctx: PartContext<B>, key: ValetKey, body: B, n: number, size: number, signal: AbortSignal): Promise<Outcome> {
  const attempt = linkSignals(signal)
  let settled = false
  const stall = stallTimer(ctx.stallTimeout, ctx.clock, () =>
    attempt.abort(new ValetError('network_error', `part ${n} made no progress for ${ctx.stallTimeout} ms`, { context: { partNumber: n } })),
  )
  try {
    const res = await ctx.transport.request({
      method: 'PUT',
      url: key.url,
      headers: partHeaders(key),
      body,
      signal: attempt.signal,
      onUploadProgress: (loaded) => {
        // An aborted request's stream may still report: those bytes were already rolled back.
        if (settled) return
        stall.touch()
        ctx.progress.partProgress(n, Math.min(loaded, size))
      },
    })
    if (res.status >= 200 && res.status < 300) {
      try {
        return { etag: partEtagFromResponse(res.headers, key.md5) }
      } catch (e) {
        if (isValetError(e) && e.code === 'checksum_mismatch') return { failure: { kind: 'checksum' }, error: withPart(e, n) }
        throw withPart(e, n)
      }
    }
    const error = new ValetError('storage_rejected', `storage answered ${res.status} to part ${n}`, {
      context: { status: res.status, partNumber: n, body: snippet(res.body) },
    })
    return {
      failure: { kind: 'status', status: res.status, body: res.body },
      error,
      // An HTTP-date is storage's clock: compare it with the server's, not a local clock that may be off.
      retryAfter: parseRetryAfter(res.headers['retry-after'], ctx.keys.serverNow()),
    }
  } catch (e) {
    if (signal.aborted) throw signal.reason
    if (isValetError(e) && e.code === 'network_error') return { failure: { kind: 'network' }, error: withPart(e, n) }
    throw e
  } finally {
    settled = true
    stall.stop()
    attempt.dispose()
  }
}

function withPart(e: unknown, n: number): ValetError {
  if (isValetError(e)) {
    e.context.partNumber ??= n
    return e
  }
  return new ValetError('network_error', String(e), { cause: e, context: { partNumber: n } })
}
