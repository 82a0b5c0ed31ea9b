/**
 * Read keys for one download's ranges: signed in batches ahead of the GETs that need them,
 * cached while they have time left, dropped after any failure (a key may have expired, which
 * browsers can't see), and the download token reopened when it expires on a long download.
 */
import { MAX_READ_RANGES, isValetError, type ByteRange, type SignedRange } from '@valet/protocol'
import type { KeyEndpoint } from '../keys/key-endpoint.js'
import { clockSkew, minStartLeft, refreshMargin, type SignTiming } from '../keys/key-timing.js'
import type { Clock } from '../ports.js'

/** A read key in local time. */
export interface RangeKey {
  url: string
  headers: Record<string, string>
  /** Local ms when storage stops accepting a GET that starts with it. */
  expiresAt: number
  /** ms between signing and expiry (server times, skew-free). */
  lifetime: number
}

export interface RangeKeysOptions {
  api: Pick<KeyEndpoint, 'signRanges'>
  ranges: readonly ByteRange[]
  /** The download token; `reopen` hands out a fresh one when it expires. */
  token: string
  /** Opens the download again for a new token (the caller restarts if the object changed). */
  reopen(signal: AbortSignal): Promise<string>
  clock: Clock
  concurrency: number
  /** Whether range `i` still needs fetching: only those are signed ahead. */
  wanted(index: number): boolean
}

function toLocal(range: SignedRange, t: SignTiming): RangeKey {
  const serverExpiry = Date.parse(range.expiresAt)
  const uncertainty = Math.max(0, t.receivedAt - t.sentAt) / 2
  return {
    url: range.url,
    headers: range.headers,
    expiresAt: serverExpiry - clockSkew(t) - uncertainty,
    lifetime: Math.max(0, serverExpiry - t.serverTime),
  }
}

export class RangeKeys {
  private readonly keys = new Map<number, RangeKey>()
  private readonly signing = new Map<number, Promise<void>>()
  private token: string
  private rangeTime = 0
  private skew = 0

  constructor(private readonly options: RangeKeysOptions) {
    this.token = options.token
  }

  /** The storage's clock now, as far as the last sign call tells: for `Retry-After` dates. */
  serverNow(): number {
    return this.options.clock.now() + this.skew
  }

  /** A GET on range `index` took this long: keys must outlive the GETs that start on them. */
  recordRangeTime(ms: number): void {
    this.rangeTime = this.rangeTime === 0 ? ms : (this.rangeTime + ms) / 2
  }

  invalidate(index: number): void {
    this.keys.delete(index)
  }

  /** The key had less than its margin left: a 403 is then most likely its expiry. */
  nearExpiry(key: RangeKey): boolean {
    return key.expiresAt - this.options.clock.now() <= refreshMargin(key.lifetime, this.rangeTime)
  }

  /** A key that may start a GET on range `index` now. */
  async keyFor(index: number, signal: AbortSignal): Promise<RangeKey> {
    for (let fresh = false; ; ) {
      const key = this.keys.get(index)
      const left = key === undefined ? 0 : key.expiresAt - this.options.clock.now()
      if (key !== undefined && left > (fresh ? minStartLeft(key.lifetime) : refreshMargin(key.lifetime, this.rangeTime))) return key
      this.keys.delete(index)
      const pending = this.signing.get(index)
      if (pending !== undefined) {
        await pending
        fresh = true
        continue
      }
      await this.sign(index, signal)
      fresh = true
    }
  }

  /** Signs `index` and the next wanted ranges without a usable key, in one call. */
  private sign(index: number, signal: AbortSignal): Promise<void> {
    const { ranges, concurrency } = this.options
    const window = Math.min(MAX_READ_RANGES, Math.max(2 * concurrency, 8))
    const batch = [index]
    for (let i = index + 1; i < ranges.length && batch.length < window; i++) {
      if (this.options.wanted(i) && !this.keys.has(i) && !this.signing.has(i)) batch.push(i)
    }
    const work = this.signBatch(batch, signal)
    const settled = work.finally(() => {
      for (const i of batch) if (this.signing.get(i) === settled) this.signing.delete(i)
    })
    for (const i of batch) this.signing.set(i, settled)
    return settled
  }

  private async signBatch(batch: number[], signal: AbortSignal): Promise<void> {
    const wanted = batch.map((i) => this.options.ranges[i] as ByteRange)
    let answer: Awaited<ReturnType<KeyEndpoint['signRanges']>>
    try {
      answer = await this.options.api.signRanges(this.token, wanted, signal)
    } catch (e) {
      // A long download outlives its token: open again (same object, or the caller restarts).
      if (!isValetError(e) || e.code !== 'token_expired') throw e
      this.token = await this.options.reopen(signal)
      answer = await this.options.api.signRanges(this.token, wanted, signal)
    }
    this.skew = clockSkew(answer.timing)
    answer.ranges.forEach((signed, k) => this.keys.set(batch[k] as number, toLocal(signed, answer.timing)))
  }
}
