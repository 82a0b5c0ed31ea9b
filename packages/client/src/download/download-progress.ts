/**
 * Download progress: the upload's {@link ProgressTracker} (per-request bytes rolled back when an
 * attempt fails, a smoothed rate, an ETA, throttled delivery) counting ranges instead of parts,
 * reported in a download's words.
 */
import type { Clock } from '../ports.js'
import { ProgressTracker, type UploadPhase, type UploadProgress } from '../engine/progress-tracker.js'

export type DownloadPhase = 'downloading' | 'paused' | 'verifying' | 'complete'

export interface DownloadProgress {
  /** Bytes received and not rolled back: done ranges plus what GETs in flight have received. */
  bytesReceived: number
  bytesTotal: number
  /** Bytes of ranges written and checked (those found on resume included). */
  bytesVerified: number
  /** Bytes an earlier run had already fetched (resume); never fetched again. */
  bytesResumed: number
  rangesDone: number
  rangesTotal: number
  /** Bytes per second, smoothed over the last seconds; 0 while paused. */
  rate: number
  /** Seconds left at the current rate; `null` when unknown. */
  eta: number | null
  phase: DownloadPhase
}

const PHASES: Record<UploadPhase, DownloadPhase> = {
  preparing: 'downloading',
  uploading: 'downloading',
  paused: 'paused',
  completing: 'verifying',
  complete: 'complete',
}

function toDownloadProgress(p: UploadProgress): DownloadProgress {
  return {
    bytesReceived: p.bytesSent,
    bytesTotal: p.bytesTotal,
    bytesVerified: p.bytesStored,
    bytesResumed: p.bytesResumed,
    rangesDone: p.partsDone,
    rangesTotal: p.partsTotal,
    rate: p.rate,
    eta: p.eta,
    phase: PHASES[p.phase],
  }
}

const TRACKER_PHASE: Record<DownloadPhase, UploadPhase> = {
  downloading: 'uploading',
  paused: 'paused',
  verifying: 'completing',
  complete: 'complete',
}

/** A download's progress; ranges are numbered from 0. */
export class DownloadTracker {
  private readonly tracker: ProgressTracker

  constructor(total: number, rangesTotal: number, interval: number, clock: Clock, listener?: (progress: DownloadProgress) => void) {
    this.tracker = new ProgressTracker(total, interval, clock, listener && ((p) => listener(toDownloadProgress(p))))
    this.tracker.setPartsTotal(rangesTotal)
  }

  resumed(index: number, size: number): void {
    this.tracker.partAlreadyStored(index + 1, size)
  }

  phase(phase: DownloadPhase): void {
    this.tracker.setPhase(TRACKER_PHASE[phase])
  }

  received(index: number, loaded: number): void {
    this.tracker.partProgress(index + 1, loaded)
  }

  rolledBack(index: number): void {
    this.tracker.partRolledBack(index + 1)
  }

  done(index: number, size: number): void {
    this.tracker.partDone(index + 1, size)
  }

  snapshot(): DownloadProgress {
    return toDownloadProgress(this.tracker.snapshot())
  }

  finish(phase?: DownloadPhase): void {
    this.tracker.finish(phase && TRACKER_PHASE[phase])
  }

  stop(): void {
    this.tracker.stop()
  }
}
