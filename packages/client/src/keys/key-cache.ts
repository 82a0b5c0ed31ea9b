/**
 * Valet keys of one upload: asks for a window of upcoming parts in one call, hands a part a key
 * only while it may still start a PUT, and forgets a part's key when a PUT on it failed.
 */
import { ValetError, type PartToSign, type SignedPart } from '@valet/protocol'
import { raceSignal } from '../engine/abort.js'
import type { SignResult } from './key-endpoint.js'
import { clockSkew, isFreshUsable, isUsable, signWindow, toLocalKey, type SignTiming, type ValetKey } from './key-timing.js'
import type { Clock } from '../ports.js'

export interface KeyCacheOptions {
  concurrency: number
  clock: Clock
  /** One `POST .../parts` call. */
  sign(parts: PartToSign[], signal: AbortSignal): Promise<SignResult>
  md5(partNumber: number, signal: AbortSignal): Promise<string>
  partSize(partNumber: number): number
  /** Parts not started yet, in the order they will start. */
  upcoming(): Iterable<number>
  /** Whether hashing part `n` now stays within the memory bound (streams). */
  canReadAhead(partNumber: number): boolean
}

/** Part times remembered for the margin: a few, so one slow part raises it at once. */
const RECENT_PARTS = 4
/** Sign calls in a row whose key for a part is already too old before giving up. */
const MAX_STALE_ROUNDS = 3

export class KeyCache {
  private readonly keys = new Map<number, ValetKey>()
  private readonly batches = new Map<number, Promise<void>>()
  private readonly partTimes: number[] = []
  private lifetime: number | undefined
  /** Server clock minus local clock, from the latest sign call (0 before the first). */
  private skew = 0

  constructor(private readonly options: KeyCacheOptions) {}

  /** The slowest of the last few part PUTs, ms (0 before the first). */
  partTime(): number {
    return this.partTimes.length === 0 ? 0 : Math.max(...this.partTimes)
  }

  /**
   * The key server's clock now: the local clock corrected by the skew the last sign call
   * measured. Absolute times storage sends (an HTTP-date `Retry-After`) are read against this,
   * not the local clock, which may be minutes off; keys only work at all when storage's clock
   * agrees with the key server's.
   */
  serverNow(): number {
    return this.options.clock.now() + this.skew
  }

  recordPartTime(ms: number): void {
    this.partTimes.push(ms)
    if (this.partTimes.length > RECENT_PARTS) this.partTimes.shift()
  }

  /**
   * Keys that came without a sign call (a single-PUT create carries its one key), corrected for
   * skew like a sign answer. A key too old to start a PUT is simply signed again when needed.
   */
  seed(parts: SignedPart[], md5: (partNumber: number) => string | undefined, timing: SignTiming): void {
    this.skew = clockSkew(timing)
    for (const part of parts) {
      const sum = md5(part.partNumber)
      if (sum === undefined) continue
      const key = toLocalKey(part, sum, timing)
      this.keys.set(part.partNumber, key)
      this.lifetime = key.lifetime
    }
  }

  /** A PUT on this key failed: the next attempt gets a new one. */
  invalidate(partNumber: number): void {
    this.keys.delete(partNumber)
  }

  /** Whether the part's key has less than its refresh margin left. */
  nearExpiry(key: ValetKey): boolean {
    return !isUsable(key, this.options.clock.now(), this.partTime())
  }

  /** A key that may start a PUT for part `n` now, signing a window of parts if needed. */
  async keyFor(n: number, signal: AbortSignal): Promise<ValetKey> {
    const { clock } = this.options
    for (let round = 0; ; round++) {
      const cached = this.keys.get(n)
      if (cached !== undefined && isUsable(cached, clock.now(), this.partTime())) return this.withPrefetch(cached, signal)
      await raceSignal(this.batches.get(n) ?? this.startBatch(n, signal, true), signal)
      const fresh = this.keys.get(n)
      if (fresh !== undefined && isFreshUsable(fresh, clock.now())) return this.withPrefetch(fresh, signal)
      if (round + 1 >= MAX_STALE_ROUNDS) {
        throw new ValetError(
          'server_error',
          `every key for part ${n} expired before its PUT could start: the key lifetime is too short for this link, or the server's clock is off`,
          { context: { partNumber: n, lifetime: fresh?.lifetime } },
        )
      }
    }
  }

  /**
   * Signs the next window in the background once fewer than `concurrency` upcoming parts have a
   * key, so workers don't all stop for a sign round trip at the end of each window. Its errors
   * are not lost: the part that needs the key signs again and meets them itself.
   */
  private withPrefetch(key: ValetKey, signal: AbortSignal): ValetKey {
    const { clock, concurrency } = this.options
    const now = clock.now()
    const partTime = this.partTime()
    let ready = 0
    for (const m of this.options.upcoming()) {
      const k = this.keys.get(m)
      if (this.batches.has(m) || (k !== undefined && isUsable(k, now, partTime))) {
        if (++ready >= concurrency) break
        continue
      }
      if (this.options.canReadAhead(m)) this.startBatch(m, signal).catch(() => {})
      break
    }
    return key
  }

  /**
   * Signs `n` and the upcoming parts of its window. When a PUT is waiting (`demand`), the first
   * `concurrency` parts go out as soon as they are hashed and the rest of the window follows in
   * a second call: the first PUTs wait for a few parts' hashes, not for the whole window's.
   */
  private startBatch(n: number, signal: AbortSignal, demand = false): Promise<void> {
    const { clock, concurrency } = this.options
    const now = clock.now()
    const partTime = this.partTime()
    const window = signWindow(concurrency, this.lifetime, partTime > 0 ? partTime : undefined)
    const parts = [n]
    for (const m of this.options.upcoming()) {
      if (parts.length >= window) break
      if (m === n || this.batches.has(m)) continue
      const key = this.keys.get(m)
      if (key !== undefined && isUsable(key, now, partTime)) continue
      if (!this.options.canReadAhead(m)) break
      parts.push(m)
    }
    // One hash at a time, in the order the parts will start (memory stays bounded for sources
    // that are read whole to hash); a failure fails every later part of the window with it.
    let chain: Promise<unknown> = Promise.resolve()
    const md5s = parts.map((m) => (chain = chain.then(() => this.options.md5(m, signal))) as Promise<string>)
    const split = demand && parts.length >= 2 * concurrency ? concurrency : parts.length
    const first = this.track(parts.slice(0, split), this.sign(parts.slice(0, split), md5s.slice(0, split), signal))
    if (split < parts.length) this.track(parts.slice(split), this.sign(parts.slice(split), md5s.slice(split), signal)).catch(() => {})
    return first
  }

  private track(parts: number[], batch: Promise<void>): Promise<void> {
    for (const m of parts) this.batches.set(m, batch)
    const forget = (): void => {
      for (const m of parts) if (this.batches.get(m) === batch) this.batches.delete(m)
    }
    batch.then(forget, forget)
    return batch
  }

  // MD5s go into the keys, so a batch is signed once its parts are hashed.
  private async sign(parts: number[], md5s: Promise<string>[], signal: AbortSignal): Promise<void> {
    const hashed = await Promise.all(md5s)
    const toSign: PartToSign[] = parts.map((m, i) => ({ partNumber: m, size: this.options.partSize(m), md5: hashed[i] as string }))
    const { parts: signed, timing } = await this.options.sign(toSign, signal)
    this.skew = clockSkew(timing)
    const md5ByPart = new Map(toSign.map((p) => [p.partNumber, p.md5]))
    for (const part of signed) {
      const md5 = md5ByPart.get(part.partNumber)
      if (md5 === undefined) continue
      const key = toLocalKey(part, md5, timing)
      this.keys.set(part.partNumber, key)
      this.lifetime = key.lifetime
    }
  }
}
