/**
 * Human output of `valet download`, built from the upload renderer's pieces (progress-lines.ts,
 * format.ts, the same modes): on a terminal, a live view redrawn in place (a bar per file in
 * flight, at most `maxBars`, and one total line) with a permanent line per finished or failed
 * file above it; in logs and pipes, plain lines: one per started, finished or failed file and,
 * every `plainInterval`, the progress of each file in flight.
 *
 * Sizes are learnt as downloads open (the key endpoint says how large each object is), so the
 * total counts the files opened so far.
 */
import { formatBytes, formatDuration, formatElapsed, formatRate, percent } from './format.js'
import { barLine, failureLine, totalLine, type TotalState } from './progress-lines.js'
import { LiveView } from './live-view.js'
import type { RenderMode, TextOutput } from './progress-renderer.js'

/** What the renderer needs of a download's progress (`DownloadProgress` of @valet/client). */
export interface DownloadProgressView {
  bytesReceived: number
  bytesTotal: number
  bytesResumed: number
  rangesDone: number
  rangesTotal: number
  rate: number
  eta: number | null
  phase: 'downloading' | 'paused' | 'verifying' | 'complete'
}

/** One file of the run. */
export interface DownloadItem {
  key: string
  /** The destination as shown to people. */
  display: string
}

export interface DownloadRendererOptions {
  output: TextOutput
  mode: RenderMode
  /** Clock in ms (tests move it by hand). */
  now?: () => number
  /** Least time between two rounds of plain progress lines, ms. @default 5000 */
  plainInterval?: number
  /** Least time between two terminal redraws, ms. @default 100 */
  redrawInterval?: number
  /** Bars shown at once on a terminal; the rest are counted on one line. @default 8 */
  maxBars?: number
}

export interface DownloadOutcome {
  size: number
  verified: 'parts' | 'md5' | 'size-etag'
  /** Bytes an earlier, interrupted run had already fetched. */
  bytesResumed: number
}

interface Active {
  item: DownloadItem
  startedAt: number
  progress: DownloadProgressView | undefined
}

const VERIFIED: Record<DownloadOutcome['verified'], string> = {
  parts: 'every part checked against its MD5',
  md5: 'checked against the MD5 storage recorded',
  'size-etag': 'size and ETag only: storage recorded no checksum for it',
}

function stateText(p: DownloadProgressView | undefined): string {
  if (p === undefined) return 'opening'
  if (p.phase === 'paused') return 'paused'
  if (p.phase === 'verifying') return 'verifying'
  return `${formatRate(p.rate)}  ETA ${formatDuration(p.eta)}`
}

/**
 * Renders many downloads: `start`, `progress`, `done`/`failed` per file, `close` once.
 *
 * @example
 * ```ts
 * const r = new DownloadRenderer(items, { output: process.stdout, mode: modeFor(process.stdout) })
 * r.start(item); r.progress(item, p); r.done(item, { size, verified: 'parts', bytesResumed: 0 }); r.close()
 * ```
 */
export class DownloadRenderer {
  private readonly active = new Map<DownloadItem, Active>()
  private readonly now: () => number
  private readonly startedAt: number
  private filesDone = 0
  private filesFailed = 0
  private filesResumed = 0
  private bytesDone = 0
  private bytesReceivedDone = 0
  private lastPlain: number
  private readonly live: LiveView

  constructor(
    private readonly items: readonly DownloadItem[],
    private readonly options: DownloadRendererOptions,
  ) {
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.lastPlain = this.startedAt
    this.live = new LiveView(options.output, options.mode, options.redrawInterval ?? 100, (columns) => this.liveLines(columns))
  }

  start(item: DownloadItem): void {
    this.active.set(item, { item, startedAt: this.now(), progress: undefined })
    this.live.line(`start  ${item.key} → ${item.display}`, false)
    this.live.changed()
  }

  progress(item: DownloadItem, progress: DownloadProgressView): void {
    const entry = this.active.get(item)
    if (!entry) return
    entry.progress = progress
    this.plainStatus()
    this.live.changed()
  }

  done(item: DownloadItem, outcome: DownloadOutcome): void {
    const entry = this.active.get(item)
    this.active.delete(item)
    this.filesDone++
    this.bytesDone += outcome.size
    const received = Math.max(0, outcome.size - outcome.bytesResumed)
    this.bytesReceivedDone += received
    if (outcome.bytesResumed > 0) this.filesResumed++
    const ms = this.now() - (entry?.startedAt ?? this.now())
    const rate = ms >= 500 && received >= 1024 * 1024 ? ` ${formatRate((received / ms) * 1000)},` : ''
    const already = outcome.bytesResumed > 0 ? ` ${formatBytes(outcome.bytesResumed)} resumed from an earlier run,` : ''
    this.live.line(`done   ${item.display} (${formatBytes(outcome.size)} in ${formatElapsed(ms)},${rate}${already} verified: ${VERIFIED[outcome.verified]})`, true)
    this.plainStatus()
    this.live.changed()
  }

  failed(item: DownloadItem, error: { code: string; message: string }): void {
    this.active.delete(item)
    this.filesFailed++
    this.live.line(failureLine(`${item.key} → ${item.display}`, error), true)
    this.plainStatus()
    this.live.changed()
  }

  /** A line that is not about one file (warnings, interruption notes). */
  note(text: string): void {
    this.live.line(text, true)
  }

  /** Prints the summary and stops redrawing; call once. */
  close(interrupted = false): void {
    this.live.stop()
    if (this.options.mode === 'silent') return
    const total = this.items.length
    const left = total - this.filesDone - this.filesFailed
    let received = this.bytesReceivedDone
    for (const a of this.active.values()) received += Math.max(0, (a.progress?.bytesReceived ?? 0) - (a.progress?.bytesResumed ?? 0))
    const parts = [`${this.filesDone} of ${total} file${total === 1 ? '' : 's'} downloaded (${formatBytes(this.bytesDone)}) in ${formatElapsed(this.now() - this.startedAt)}`]
    if (received !== this.bytesDone) parts.push(`${formatBytes(received)} received in this run`)
    if (this.filesResumed > 0) parts.push(`${this.filesResumed} resumed`)
    if (this.filesFailed > 0) parts.push(`${this.filesFailed} failed`)
    if (interrupted && left > 0) parts.push(`${left} paused or not started`)
    this.live.write(`${parts.join(', ')}\n`)
  }

  /** Totals across files: finished files plus what active ones have received (sizes known so far). */
  totals(): TotalState {
    let bytesSent = this.bytesDone
    let bytesTotal = this.bytesDone
    let rate = 0
    for (const a of this.active.values()) {
      bytesSent += a.progress?.bytesReceived ?? 0
      bytesTotal += a.progress?.bytesTotal ?? 0
      rate += a.progress?.rate ?? 0
    }
    return { filesDone: this.filesDone, filesTotal: this.items.length, bytesSent, bytesTotal, rate, filesFailed: this.filesFailed, filesActive: this.active.size }
  }

  private plainStatus(): void {
    if (this.options.mode !== 'plain' || this.now() - this.lastPlain < (this.options.plainInterval ?? 5000)) return
    this.lastPlain = this.now()
    for (const a of this.active.values()) {
      const p = a.progress
      if (!p) continue
      const state = p.phase === 'downloading' ? `${formatRate(p.rate)}, ETA ${formatDuration(p.eta)}` : p.phase
      this.live.write(
        `       ${a.item.display} ${percent(p.bytesReceived, p.bytesTotal)}% (${formatBytes(p.bytesReceived)} of ${formatBytes(p.bytesTotal)}, ${p.rangesDone}/${p.rangesTotal} ranges, ${state})\n`,
      )
    }
  }

  /** The live view, on the redraw timer only: bars, then the total line. */
  private liveLines(columns: number): string[] {
    const max = this.options.maxBars ?? 8
    const lines: string[] = []
    let shown = 0
    for (const a of this.active.values()) {
      if (shown++ === max) break
      lines.push(barLine(a.item.display, a.progress?.bytesReceived ?? 0, a.progress?.bytesTotal ?? 0, stateText(a.progress), columns))
    }
    if (this.active.size > max) lines.push(`… and ${this.active.size - max} more in flight`)
    lines.push(totalLine(this.totals(), columns))
    return lines
  }
}
