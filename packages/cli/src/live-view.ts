/**
 * The terminal side both progress renderers (`valet upload`, `valet download`) share: permanent
 * lines printed above a live view that is redrawn in place on a timer, plain lines in logs and
 * pipes, nothing when silent. What the live view shows is the renderer's business (`view`).
 */
import type { RenderMode, TextOutput } from './progress-renderer.js'

/** Moves the cursor up `n` lines and clears from there down. */
const clearLines = (n: number): string => (n > 0 ? `\x1b[${n}F\x1b[J` : '')

export class LiveView {
  private drawn = 0
  private dirty = false
  private timer: ReturnType<typeof setInterval> | undefined

  /** @param view - the live view's lines for a terminal `columns` wide, asked on the redraw timer only. */
  constructor(
    private readonly output: TextOutput,
    private readonly mode: RenderMode,
    redrawInterval: number,
    private readonly view: (columns: number) => string[],
  ) {
    if (mode === 'tty') {
      this.timer = setInterval(() => this.redraw(), redrawInterval)
      this.timer.unref?.()
    }
  }

  /** A permanent line: in plain mode, and above the live view on a terminal when `onTerminal`. */
  line(text: string, onTerminal: boolean): void {
    if (this.mode === 'silent') return
    if (this.mode === 'tty') {
      if (!onTerminal) return // the live view shows it
      this.clear()
      this.write(`${text}\n`)
      this.dirty = true
      return
    }
    this.write(`${text}\n`)
  }

  /** Something the live view shows changed: redraw it on the next tick. */
  changed(): void {
    if (this.mode === 'tty') this.dirty = true
  }

  write(text: string): void {
    this.output.write(text)
  }

  /** Stops redrawing and wipes the live view, before the summary; call once. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.clear()
  }

  private clear(): void {
    if (this.drawn > 0) this.write(clearLines(this.drawn))
    this.drawn = 0
  }

  private redraw(): void {
    if (!this.dirty) return
    this.dirty = false
    const lines = this.view(Math.max(40, this.output.columns ?? 80))
    this.clear()
    this.write(lines.map((l) => `${l}\n`).join(''))
    this.drawn = lines.length
  }
}
