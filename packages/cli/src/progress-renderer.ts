/**
 * Human output of `valet upload`. A terminal shows a live view redrawn in place at most every
 * `redrawInterval`: recent failures, the files in flight (at most `maxBars`) and one total line.
 * Logs and pipes get plain lines: one per finished or failed file, and every `plainInterval` the
 * progress (per file for small runs, one total line for large ones). Runs of more than
 * `listUpTo` files keep no line per file on a terminal (10,000 `done` lines would bury the view)
 * and print no `start` lines in logs; `--json` is where every file gets its line.
 *
 * Cost: every call is O(1) in the number of files (running sums, a bounded list of failures);
 * a redraw is O(maxBars + maxFailures).
 */
import type { UploadProgress } from '@valet/client'
import type { FileEntry } from './expand-paths.js'
import { formatBytes, formatElapsed, formatRate } from './format.js'
import { LiveView } from './live-view.js'
import { failureLine, fileLine, plainProgressLine, plainTotalLine, totalLine, type TotalState } from './progress-lines.js'

/** Where the renderer writes: `process.stdout`/`process.stderr` or a test double. */
export interface TextOutput {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export type RenderMode = 'tty' | 'plain' | 'silent'

export interface RendererOptions {
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
  /** Failures a large run shows live on a terminal, and again above its summary. @default 5 */
  maxFailures?: number
  /**
   * Runs of at most this many files get a line per started file (plain) and per finished file
   * (terminal), and percent lines per file; larger runs get totals instead. @default 50
   */
  listUpTo?: number
}

export interface FileOutcome {
  key: string
  size: number
  /** Parts storage already held when this run started (`UploadResult.partsResumed`). */
  partsResumed: number
  /** Bytes not sent in this run, when known here (a file an interrupted run already finished). */
  bytesResumed?: number
}

interface Active {
  file: FileEntry
  startedAt: number
  progress: UploadProgress | undefined
}

type Failure = { display: string; error: { code: string; message: string } }

// Cursor up n lines, then clear to the end of the screen.

/**
 * Picks the mode for a stream: bars on a real terminal, plain lines otherwise (pipes, files,
 * `TERM=dumb`, CI logs).
 *
 * @example
 * ```ts
 * modeFor(process.stdout) // 'tty' in a terminal, 'plain' when piped
 * ```
 */
export function modeFor(output: TextOutput, env: NodeJS.ProcessEnv = process.env): RenderMode {
  return output.isTTY && env.TERM !== 'dumb' && !env.CI ? 'tty' : 'plain'
}

/**
 * Renders the progress of many uploads. Call `start`, `progress`, `done`/`failed` per file and
 * `close` once at the end (it prints the summary and stops the redraw timer).
 *
 * @example
 * ```ts
 * const renderer = new ProgressRenderer(files, { output: process.stdout, mode: modeFor(process.stdout) })
 * renderer.start(file)
 * upload(file, { onProgress: (p) => renderer.progress(file, p) })
 * renderer.done(file, result)
 * renderer.close()
 * ```
 */
export class ProgressRenderer {
  private readonly active = new Map<FileEntry, Active>()
  private readonly now: () => number
  private readonly startedAt: number
  private readonly bytesTotal: number
  /** Whether this run lists files one by one (see `listUpTo`). */
  private readonly small: boolean
  private filesDone = 0
  private filesFailed = 0
  private filesResumed = 0
  private bytesDone = 0
  /** Bytes finished files sent in this run: their size less the parts storage already had. */
  private bytesSentDone = 0
  // Sums over `active`, kept as progress arrives so that no call walks the files in flight.
  private activeSent = 0
  private activeRate = 0
  /** The last `maxFailures` failures, oldest first. */
  private readonly recentFailures: Failure[] = []
  private lastPlain: number
  private readonly live: LiveView

  constructor(
    private readonly files: readonly FileEntry[],
    private readonly options: RendererOptions,
  ) {
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.lastPlain = this.startedAt
    this.bytesTotal = files.reduce((sum, f) => sum + f.size, 0)
    this.small = files.length <= (options.listUpTo ?? 50)
    this.live = new LiveView(options.output, options.mode, options.redrawInterval ?? 100, (columns) => this.liveLines(columns))
  }

  start(file: FileEntry): void {
    this.forget(file) // started again (a retry by the caller): counted once
    this.active.set(file, { file, startedAt: this.now(), progress: undefined })
    if (this.small) this.live.line(`start  ${file.display} (${formatBytes(file.size)})`, false)
    this.live.changed()
  }

  progress(file: FileEntry, progress: UploadProgress): void {
    const entry = this.active.get(file)
    if (!entry) return
    this.activeSent += progress.bytesSent - (entry.progress?.bytesSent ?? 0)
    this.activeRate += progress.rate - (entry.progress?.rate ?? 0)
    entry.progress = progress
    this.plainStatus()
    this.live.changed()
  }

  done(file: FileEntry, outcome: FileOutcome): void {
    const entry = this.forget(file)
    this.filesDone++
    this.bytesDone += file.size
    // Parts storage already had (a resumed upload) were not sent now: they count for neither
    // the bytes sent in this run nor the rate.
    const resumed = outcome.bytesResumed ?? entry?.progress?.bytesResumed ?? 0
    const sent = Math.max(0, file.size - resumed)
    this.bytesSentDone += sent
    if (outcome.partsResumed > 0) this.filesResumed++
    const ms = this.now() - (entry?.startedAt ?? this.now())
    // A rate over a few bytes or milliseconds says nothing.
    const rate = ms >= 500 && sent >= 1024 * 1024 ? ` ${formatRate((sent / ms) * 1000)},` : ''
    const already = resumed > 0 ? ` ${formatBytes(resumed)} already stored,` : ''
    if (outcome.partsResumed > 0) {
      const of = entry?.progress ? ` of ${entry.progress.partsTotal}` : ''
      this.live.line(`resume ${file.display}: ${outcome.partsResumed}${of} parts were already stored`, this.small)
    }
    this.live.line(`done   ${file.display} (${formatBytes(outcome.size)} in ${formatElapsed(ms)},${rate}${already} key ${outcome.key})`, this.small)
    this.plainStatus()
    this.live.changed()
  }

  failed(file: FileEntry, error: { code: string; message: string }): void {
    this.forget(file)
    this.filesFailed++
    this.recentFailures.push({ display: file.display, error })
    if (this.recentFailures.length > (this.options.maxFailures ?? 5)) this.recentFailures.shift()
    this.live.line(failureLine(file.display, error), this.small)
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
    // A large run on a terminal listed its failures only live: keep the last ones on screen.
    if (this.options.mode === 'tty' && !this.small && this.filesFailed > 0) {
      const earlier = this.filesFailed - this.recentFailures.length
      if (earlier > 0) this.live.write(`… ${earlier} earlier failure${earlier === 1 ? '' : 's'} not shown (--json prints a line per file)\n`)
      for (const f of this.recentFailures) this.live.write(`${failureLine(f.display, f.error)}\n`)
    }
    const total = this.files.length
    const elapsed = formatElapsed(this.now() - this.startedAt)
    const left = total - this.filesDone - this.filesFailed
    // Unfinished files count with the parts storage holds: a paused upload keeps them.
    let stored = this.bytesDone
    let sent = this.bytesSentDone
    for (const a of this.active.values()) {
      stored += a.progress?.bytesStored ?? 0
      sent += Math.max(0, (a.progress?.bytesStored ?? 0) - (a.progress?.bytesResumed ?? 0))
    }
    const bytes = stored === this.bytesDone ? formatBytes(stored) : `${formatBytes(stored)} of ${formatBytes(this.bytesTotal)} stored`
    const parts = [`${this.filesDone} of ${total} file${total === 1 ? '' : 's'} uploaded (${bytes}) in ${elapsed}`]
    if (sent !== stored) parts.push(`${formatBytes(sent)} sent in this run`)
    if (this.filesResumed > 0) parts.push(`${this.filesResumed} resumed`)
    if (this.filesFailed > 0) parts.push(`${this.filesFailed} failed`)
    if (interrupted && left > 0) parts.push(`${left} paused or not started`)
    this.live.write(`${parts.join(', ')}\n`)
  }

  /** Totals across files: finished files plus what active ones have sent. O(1). */
  totals(): TotalState {
    return {
      filesDone: this.filesDone,
      filesTotal: this.files.length,
      bytesSent: this.bytesDone + this.activeSent,
      bytesTotal: this.bytesTotal,
      rate: Math.max(0, this.activeRate),
      filesFailed: this.filesFailed,
      filesActive: this.active.size,
    }
  }

  /** Drops a file from the files in flight and from the running sums; its last entry. */
  private forget(file: FileEntry): Active | undefined {
    const entry = this.active.get(file)
    if (!entry) return undefined
    this.active.delete(file)
    this.activeSent -= entry.progress?.bytesSent ?? 0
    this.activeRate -= entry.progress?.rate ?? 0
    return entry
  }

  /** Plain mode, at most every `plainInterval`: per-file percent lines (small runs) or one total line. */
  private plainStatus(): void {
    if (this.options.mode !== 'plain' || this.now() - this.lastPlain < (this.options.plainInterval ?? 5000)) return
    this.lastPlain = this.now()
    if (!this.small) {
      this.live.write(`${plainTotalLine(this.totals())}\n`)
      return
    }
    for (const a of this.active.values()) {
      if (a.progress && a.progress.phase !== 'preparing') this.live.write(`${plainProgressLine(a.file.display, a.progress, a.file.size)}\n`)
    }
  }

  /** The live view, on the redraw timer only: failures (large runs), bars, the total line. */
  private liveLines(columns: number): string[] {
    const max = this.options.maxBars ?? 8
    const lines: string[] = []
    if (!this.small) for (const f of this.recentFailures) lines.push(failureLine(f.display, f.error, columns))
    let shown = 0
    for (const a of this.active.values()) {
      if (shown++ === max) break
      lines.push(fileLine(a.file.display, a.progress, a.file.size, columns))
    }
    if (this.active.size > max) lines.push(`… and ${this.active.size - max} more in flight`)
    lines.push(totalLine(this.totals(), columns))
    return lines
  }
}
