/** The progress of `uploadMany` as a whole: files and bytes over every file, one rate, throttled. */
import type { Clock } from '../ports.js'

export interface ManyProgress {
  /** Files complete and verified. */
  filesDone: number
  /** Files that ended with an error (their `onFileDone` outcome says which). */
  filesFailed: number
  /** Files in all, once the items are all read (at once for an array); `undefined` before. */
  filesTotal: number | undefined
  /** Bytes sent and not rolled back, over every file (resumed parts included). */
  bytesSent: number
  /** Bytes of the files opened so far (files are opened as they are reached, not up front). */
  bytesTotal: number
  /** Bytes per second over every file, smoothed over the last seconds. */
  rate: number
}

/** Seconds of history the rate mostly reflects, as for one upload. */
const RATE_WINDOW_MS = 2000

export class ManyTracker {
  private readonly sent = new Map<number, number>()
  private doneBytes = 0
  private state: ManyProgress = { filesDone: 0, filesFailed: 0, filesTotal: undefined, bytesSent: 0, bytesTotal: 0, rate: 0 }
  private sample: { at: number; bytes: number } | undefined
  private lastEmit = Number.NEGATIVE_INFINITY

  constructor(
    private readonly interval: number,
    private readonly clock: Clock,
    private readonly listener: ((progress: ManyProgress) => void) | undefined,
  ) {}

  opened(size: number): void {
    this.state.bytesTotal += size
    this.emit(false)
  }

  total(files: number): void {
    this.state.filesTotal = files
    this.emit(true)
  }

  fileProgress(index: number, bytesSent: number): void {
    this.sent.set(index, bytesSent)
    this.emit(false)
  }

  /** A file ended: its bytes count as sent only if it completed. */
  fileDone(index: number, ok: boolean, size: number | undefined): void {
    this.sent.delete(index)
    if (ok) {
      this.state.filesDone++
      this.doneBytes += size ?? 0
    } else this.state.filesFailed++
    this.emit(true)
  }

  /** The last call, whatever the interval. */
  finish(): void {
    this.emit(true)
  }

  private emit(force: boolean): void {
    const now = this.clock.now()
    let bytes = this.doneBytes
    for (const b of this.sent.values()) bytes += b
    this.state.bytesSent = bytes
    if (this.sample === undefined) this.sample = { at: now, bytes }
    else if (now - this.sample.at >= 250) {
      const instant = (Math.max(0, bytes - this.sample.bytes) * 1000) / (now - this.sample.at)
      const weight = Math.min(1, (now - this.sample.at) / RATE_WINDOW_MS)
      this.state.rate = this.state.rate === 0 ? instant : this.state.rate + weight * (instant - this.state.rate)
      this.sample = { at: now, bytes }
    }
    if (this.listener === undefined || (!force && now - this.lastEmit < this.interval)) return
    this.lastEmit = now
    try {
      this.listener({ ...this.state })
    } catch {
      // A listener's bug must not stop the uploads.
    }
  }
}
