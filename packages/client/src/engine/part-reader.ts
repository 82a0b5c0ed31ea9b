/**
 * Reads and hashes parts lazily. Random-access sources are read when needed and the bytes
 * dropped (hashing and sending read a part twice, so memory stays ≈ concurrency × part size;
 * Node file parts are ranges the hasher and transport read in chunks, so not even that).
 * Streams can't be read twice: their parts are kept from first read until `release`, and the
 * key window never reads ahead past `capacity` kept parts.
 */
import { ValetError, partRange, type PartPlan } from '@valet/protocol'
import { NEVER, raceSignal } from './abort.js'
import type { FileSource, Hasher } from '../ports.js'

/** @typeParam B - the platform's part body, carried and never opened here. */
export class PartReader<B> {
  private readonly kept = new Map<number, B>()
  private readonly md5s = new Map<number, Promise<string>>()
  /** Sequential sources: reads started and not yet finished, and the last part asked for. */
  private readonly loading = new Map<number, Promise<B>>()
  private loadedUpTo = 0
  /** Highest part a sign window was allowed to read ahead to: counted before its read starts. */
  private reservedUpTo = 0
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly source: FileSource<B>,
    private readonly plan: PartPlan,
    private readonly hasher: Hasher<B>,
    /** Parts a sequential source may keep at once. */
    private readonly capacity: number,
  ) {}

  get sequential(): boolean {
    return this.source.access === 'sequential'
  }

  /** The bytes of part `n`. */
  read(n: number, signal: AbortSignal): Promise<B> {
    const kept = this.kept.get(n)
    if (kept !== undefined) return Promise.resolve(kept)
    if (!this.sequential) {
      const { start, end } = partRange(this.plan, n)
      return this.source.read(start, end, signal)
    }
    return this.readSequential(n, signal)
  }

  /** Base64 MD5 of part `n`, computed once per upload. */
  md5(n: number, signal: AbortSignal): Promise<string> {
    let md5 = this.md5s.get(n)
    if (md5 === undefined) {
      md5 = this.read(n, signal).then((body) => this.hasher.md5(body, signal))
      this.md5s.set(n, md5)
      // An aborted or failed hash must be computed again next time, not remembered.
      const mine = md5
      md5.catch(() => {
        if (this.md5s.get(n) === mine) this.md5s.delete(n)
      })
    }
    return md5
  }

  /**
   * Whether part `n` may be read ahead now without keeping more than `capacity` parts; a yes is
   * a reservation, so windows planned at the same moment can't both take the last room.
   */
  canReadAhead(n: number): boolean {
    const committed = Math.max(this.loadedUpTo, this.reservedUpTo)
    if (!this.sequential || n <= committed) return true
    const held = this.kept.size + this.loading.size + (committed - this.loadedUpTo)
    if (held + (n - committed) > this.capacity) return false
    this.reservedUpTo = n
    return true
  }

  /** The engine is done with part `n` (stored): a stream's copy can go. */
  release(n: number): void {
    this.kept.delete(n)
  }

  close(): Promise<void> {
    this.kept.clear()
    return this.source.close()
  }

  /**
   * Stream reads are chained (a stream hands out consecutive ranges) and never cancelled: a
   * pause must not lose bytes already taken from the stream, so the caller stops waiting while
   * the read finishes into `kept`.
   */
  private readSequential(n: number, signal: AbortSignal): Promise<B> {
    while (this.loadedUpTo < n) {
      const k = ++this.loadedUpTo
      const { start, end } = partRange(this.plan, k)
      const load = this.chain.then(() => this.source.read(start, end, NEVER))
      this.loading.set(k, load)
      load.then(
        (body) => {
          this.kept.set(k, body)
          this.loading.delete(k)
        },
        () => {},
      )
      this.chain = load
    }
    const load = this.loading.get(n)
    if (load === undefined) {
      return Promise.reject(
        new ValetError('invalid_source', `part ${n} of a stream was needed again after it was released`, { context: { partNumber: n } }),
      )
    }
    return raceSignal(load, signal)
  }
}
