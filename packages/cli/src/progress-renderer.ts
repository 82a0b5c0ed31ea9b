/**
 * Human output of `valet upload`: live bars and a total line on a terminal, or plain lines for
 * logs and pipes (start/finish per file, percent lines at most every 5 s).
 */
import type { UploadProgress } from '@valet/client'
import type { FileEntry } from './expand-paths.js'
import { formatBytes, formatElapsed, formatRate } from './format.js'
import { fileLine, plainProgressLine, totalLine, type TotalState } from './progress-lines.js'

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
  /** Least time between two rounds of plain percent lines, ms. @default 5000 */
  plainInterval?: number
  /** Least time between two terminal redraws, ms. @default 100 */
  redrawInterval?: number
  /** Bars shown at once on a terminal; the rest are counted on one line. @default 8 */
  maxBars?: number
}

export interface FileOutcome {
  key: string
  size: number
  /** Parts storage already held when this run started (`UploadResult.partsResumed`). */
  partsResumed: number
}

interface Active {
  file: FileEntry
  startedAt: number
  progress: UploadProgress | undefined
}

// Cursor up n lines, then clear to the end of the screen.
const clearLines = (n: number): string => (n > 0 ? `\x1b[${n}F\x1b[J` : '')

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
  private filesDone = 0
  private filesFailed = 0
  private bytesDone = 0
  /** Bytes finished files sent in this run: their size less the parts storage already had. */
  private bytesSentDone = 0
  private drawn = 0
  private dirty = false
  private lastPlain: number
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly files: readonly FileEntry[],
    private readonly options: RendererOptions,
  ) {
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.lastPlain = this.startedAt
    this.bytesTotal = files.reduce((sum, f) => sum + f.size, 0)
    if (options.mode === 'tty') {
      this.timer = setInterval(() => this.redraw(false), options.redrawInterval ?? 100)
      this.timer.unref?.()
    }
  }

  start(file: FileEntry): void {
    this.active.set(file, { file, startedAt: this.now(), progress: undefined })
    this.line(`start  ${file.display} (${formatBytes(file.size)})`, false)
    this.changed()
  }

  progress(file: FileEntry, progress: UploadProgress): void {
    const entry = this.active.get(file)
    if (!entry) return
    entry.progress = progress
    if (this.options.mode === 'plain' && this.now() - this.lastPlain >= (this.options.plainInterval ?? 5000)) {
      this.lastPlain = this.now()
      for (const a of this.active.values()) {
        if (a.progress && a.progress.phase !== 'preparing') this.write(`${plainProgressLine(a.file.display, a.progress, a.file.size)}\n`)
      }
    }
    this.changed()
  }

  done(file: FileEntry, outcome: FileOutcome): void {
    const entry = this.active.get(file)
    this.active.delete(file)
    this.filesDone++
    this.bytesDone += file.size
    // Parts storage already had (a resumed upload) were not sent now: they count for neither
    // the bytes sent in this run nor the rate.
    const resumed = entry?.progress?.bytesResumed ?? 0
    const sent = Math.max(0, file.size - resumed)
    this.bytesSentDone += sent
    const ms = this.now() - (entry?.startedAt ?? this.now())
    // A rate over a few bytes or milliseconds says nothing.
    const rate = ms >= 500 && sent >= 1024 * 1024 ? ` ${formatRate((sent / ms) * 1000)},` : ''
    const already = resumed > 0 ? ` ${formatBytes(resumed)} already stored,` : ''
    if (outcome.partsResumed > 0) {
      const of = entry?.progress ? ` of ${entry.progress.partsTotal}` : ''
      this.line(`resume ${file.display}: ${outcome.partsResumed}${of} parts were already stored`, true)
    }
    this.line(`done   ${file.display} (${formatBytes(outcome.size)} in ${formatElapsed(ms)},${rate}${already} key ${outcome.key})`, true)
  }

  failed(file: FileEntry, error: { code: string; message: string }): void {
    this.active.delete(file)
    this.filesFailed++
    this.line(`failed ${file.display}: ${error.code}: ${error.message}`, true)
  }

  /** A line that is not about one file (warnings, interruption notes). */
  note(text: string): void {
    this.line(text, true)
  }

  /** Prints the summary and stops redrawing; call once. */
  close(interrupted = false): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.clear()
    if (this.options.mode === 'silent') return
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
    if (this.filesFailed > 0) parts.push(`${this.filesFailed} failed`)
    if (interrupted && left > 0) parts.push(`${left} paused or not started`)
    this.write(`${parts.join(', ')}\n`)
  }

  /** Totals across files: finished files plus what active ones have sent. */
  totals(): TotalState {
    let bytesSent = this.bytesDone
    let rate = 0
    for (const a of this.active.values()) {
      bytesSent += a.progress?.bytesSent ?? 0
      rate += a.progress?.rate ?? 0
    }
    return { filesDone: this.filesDone, filesTotal: this.files.length, bytesSent, bytesTotal: this.bytesTotal, rate }
  }

  /** A permanent line, printed above the live bars on a terminal; `onTerminal: false` for plain mode only. */
  private line(text: string, onTerminal: boolean): void {
    if (this.options.mode === 'silent') return
    if (this.options.mode === 'tty') {
      if (!onTerminal) return // a started file shows as a bar there
      this.clear()
      this.write(`${text}\n`)
      this.dirty = true
      return
    }
    this.write(`${text}\n`)
  }

  private changed(): void {
    if (this.options.mode === 'tty') this.dirty = true
  }

  private clear(): void {
    if (this.drawn > 0) this.write(clearLines(this.drawn))
    this.drawn = 0
  }

  private redraw(force: boolean): void {
    if (!force && !this.dirty) return
    this.dirty = false
    const columns = Math.max(40, this.options.output.columns ?? 80)
    const max = this.options.maxBars ?? 8
    const lines: string[] = []
    const active = [...this.active.values()]
    for (const a of active.slice(0, max)) lines.push(fileLine(a.file.display, a.progress, a.file.size, columns))
    if (active.length > max) lines.push(`… and ${active.length - max} more in flight`)
    lines.push(totalLine(this.totals(), columns))
    this.clear()
    this.write(lines.map((l) => `${l}\n`).join(''))
    this.drawn = lines.length
  }

  private write(text: string): void {
    this.options.output.write(text)
  }
}
