/**
 * Upload progress: bytes from per-request progress events (rolled back when a part's attempt
 * fails), a smoothed rate, an ETA, throttled delivery.
 */
import type { Clock } from '../ports.js'

export type UploadPhase = 'preparing' | 'uploading' | 'paused' | 'completing' | 'complete'

export interface UploadProgress {
  /** Bytes sent and not rolled back: done parts, plus what in-flight PUTs have sent. */
  bytesSent: number
  bytesTotal: number
  partsDone: number
  /** 0 until the upload's plan is known. */
  partsTotal: number
  /** Bytes of the parts storage holds (confirmed), those found there on resume included. */
  bytesStored: number
  /** Bytes of the parts storage already held when this upload started (a resume); never sent again. */
  bytesResumed: number
  /** The part size the server planned (it may differ from the `partSize` hint); 0 until known. */
  partSize: number
  /** Bytes per second, smoothed over the last seconds; 0 while paused. */
  rate: number
  /** Seconds left at the current rate; `null` when unknown. */
  eta: number | null
  phase: UploadPhase
}

/** Seconds of history the rate mostly reflects. */
const RATE_WINDOW_MS = 2000
/** Samples closer than this are merged: per-chunk events would make the rate jitter. */
const MIN_SAMPLE_MS = 50

export class ProgressTracker {
  private doneBytes = 0
  private partsDone = 0
  private partsTotal = 0
  private partSize = 0
  private resumedBytes = 0
  private readonly inFlight = new Map<number, number>()
  private readonly done = new Set<number>()
  private phase: UploadPhase = 'preparing'
  private rate = 0
  private sample: { at: number; bytes: number } | undefined
  private lastEmit = Number.NEGATIVE_INFINITY
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly total: number,
    private readonly interval: number,
    private readonly clock: Clock,
    private readonly listener?: (progress: UploadProgress) => void,
  ) {}

  setPartsTotal(partsTotal: number, partSize = 0): void {
    this.partsTotal = partsTotal
    this.partSize = partSize
  }

  /** Counts a part storage already had (resume): it adds to bytesSent but not to the rate. */
  partAlreadyStored(partNumber: number, size: number): void {
    if (this.done.has(partNumber)) return
    this.done.add(partNumber)
    this.doneBytes += size
    this.resumedBytes += size
    this.partsDone++
  }

  /** The first call, before any byte moves. */
  announce(): void {
    this.emit(true)
  }

  setPhase(phase: UploadPhase): void {
    if (phase === this.phase) return
    this.phase = phase
    if (phase !== 'uploading') {
      this.rate = 0
      this.sample = undefined
    }
    this.emit(true)
  }

  partProgress(partNumber: number, loaded: number): void {
    if (this.done.has(partNumber)) return
    this.inFlight.set(partNumber, loaded)
    this.update()
  }

  /** An attempt failed or was paused: its bytes no longer count. */
  partRolledBack(partNumber: number): void {
    if (this.inFlight.delete(partNumber)) this.update()
  }

  partDone(partNumber: number, size: number): void {
    if (this.done.has(partNumber)) return
    this.done.add(partNumber)
    this.inFlight.delete(partNumber)
    this.doneBytes += size
    this.partsDone++
    this.update()
  }

  snapshot(): UploadProgress {
    const bytesSent = Math.min(this.total, this.bytesSent())
    const eta = this.rate > 0 ? (this.total - bytesSent) / this.rate : this.phase === 'complete' ? 0 : null
    return {
      bytesSent,
      bytesTotal: this.total,
      partsDone: this.partsDone,
      partsTotal: this.partsTotal,
      bytesStored: this.doneBytes,
      bytesResumed: this.resumedBytes,
      partSize: this.partSize,
      rate: this.rate,
      eta,
      phase: this.phase,
    }
  }

  /** The last call, whatever the throttle says. */
  finish(phase?: UploadPhase): void {
    if (phase !== undefined) this.phase = phase
    this.emit(true)
    this.stop()
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private bytesSent(): number {
    let sent = this.doneBytes
    for (const loaded of this.inFlight.values()) sent += loaded
    return sent
  }

  private update(): void {
    this.updateRate()
    this.emit(false)
  }

  private updateRate(): void {
    const now = this.clock.now()
    const bytes = this.bytesSent()
    if (this.sample === undefined) {
      this.sample = { at: now, bytes }
      return
    }
    const dt = now - this.sample.at
    if (dt < MIN_SAMPLE_MS) return
    // Rolled-back bytes make the delta negative: that is not a negative speed.
    const instant = (Math.max(0, bytes - this.sample.bytes) / dt) * 1000
    const alpha = 1 - Math.exp(-dt / RATE_WINDOW_MS)
    this.rate = this.rate === 0 ? instant : this.rate + alpha * (instant - this.rate)
    this.sample = { at: now, bytes }
  }

  private emit(force: boolean): void {
    if (this.listener === undefined) return
    const now = this.clock.now()
    const wait = this.lastEmit + this.interval - now
    if (!force && wait > 0) {
      // Trailing call, so the last state before a quiet spell is always delivered.
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        this.emit(true)
      }, wait)
      return
    }
    this.stop()
    this.lastEmit = now
    try {
      this.listener(this.snapshot())
    } catch {
      // A broken progress callback must not break the upload it reports on.
    }
  }
}
