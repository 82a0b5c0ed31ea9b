import type { UploadProgress } from '@valet/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FileEntry } from './expand-paths.js'
import { formatBytes } from './format.js'
import { fileLine, totalLine } from './progress-lines.js'
import { ProgressRenderer, modeFor } from './progress-renderer.js'

const MiB = 1024 * 1024
const file = (display: string, size: number): FileEntry => ({ path: `/abs/${display}`, display, name: display, size, mtimeMs: 0 })

function harness(mode: 'plain' | 'silent' | 'tty', files: FileEntry[]) {
  let text = ''
  let now = 0
  const renderer = new ProgressRenderer(files, {
    output: { write: (s: string) => (text += s), columns: 60 },
    mode,
    now: () => now,
    redrawInterval: 60_000,
  })
  return {
    renderer,
    advance: (ms: number) => (now += ms),
    text: () => text,
    lines: () => text.split('\n').filter(Boolean),
  }
}

const progress = (p: Partial<UploadProgress>): UploadProgress => ({
  bytesSent: 0, bytesTotal: 0, partsDone: 0, partsTotal: 0, bytesStored: 0, bytesResumed: 0, partSize: 0, rate: 0, eta: null, phase: 'uploading', ...p,
})

describe('ProgressRenderer, plain mode', () => {
  it('prints start and finish lines and a summary, without escape codes', () => {
    const a = file('data/a.bin', 12 * MiB)
    const h = harness('plain', [a])
    h.renderer.start(a)
    h.renderer.progress(a, progress({ phase: 'preparing', bytesTotal: 12 * MiB }))
    h.renderer.progress(a, progress({ bytesTotal: 12 * MiB, partsTotal: 2 }))
    h.advance(2000)
    h.renderer.progress(a, progress({ bytesSent: 12 * MiB, bytesTotal: 12 * MiB, partsDone: 2, partsTotal: 2 }))
    h.renderer.done(a, { key: 'dev/u/a.bin', size: 12 * MiB, partsResumed: 0 })
    h.renderer.close()
    expect(h.lines()).toEqual([
      'start  data/a.bin (12.0 MiB)',
      'done   data/a.bin (12.0 MiB in 2.0s, 6.0 MiB/s, key dev/u/a.bin)',
      '1 of 1 file uploaded (12.0 MiB) in 2.0s',
    ])
    expect(h.text()).not.toMatch(/\x1b/)
  })

  it('prints percent lines for active files at most every 5 s', () => {
    const a = file('a.bin', 100 * MiB)
    const b = file('b.bin', 10 * MiB)
    const h = harness('plain', [a, b])
    h.renderer.start(a)
    h.renderer.start(b)
    for (let t = 0; t < 50; t++) {
      h.advance(250) // 12.5 s of frequent progress events
      h.renderer.progress(a, progress({ bytesSent: t * MiB, partsDone: Math.floor(t / 8), partsTotal: 13, rate: 4 * MiB, eta: 20 }))
    }
    const percentLines = h.lines().filter((l) => l.includes('%'))
    // At 5 s and 10 s; b has not reported yet, so only a is listed.
    expect(percentLines).toHaveLength(2)
    expect(percentLines[0]).toBe('       a.bin 19% (19.0 MiB of 100.0 MiB, 2/13 parts, 4.0 MiB/s, ETA 20s)')
  })

  it('reports a resumed upload and a failure', () => {
    const a = file('a.bin', 60 * MiB)
    const b = file('b.bin', 0)
    const h = harness('plain', [a, b])
    h.renderer.start(a)
    h.renderer.progress(a, progress({ phase: 'preparing' }))
    h.renderer.progress(a, progress({ bytesSent: 20 * MiB, partsDone: 4, partsTotal: 12 }))
    h.renderer.progress(a, progress({ bytesSent: 25 * MiB, partsDone: 5, partsTotal: 12 }))
    h.renderer.done(a, { key: 'k/a.bin', size: 60 * MiB, partsResumed: 4 })
    h.renderer.start(b)
    h.renderer.failed(b, { code: 'invalid_source', message: 'empty files cannot be uploaded in parts' })
    h.renderer.close()
    expect(h.lines()).toEqual([
      'start  a.bin (60.0 MiB)',
      'resume a.bin: 4 of 12 parts were already stored',
      'done   a.bin (60.0 MiB in 0.0s, key k/a.bin)',
      'start  b.bin (0 B)',
      'failed b.bin: invalid_source: empty files cannot be uploaded in parts',
      '1 of 2 files uploaded (60.0 MiB) in 0.0s, 1 resumed, 1 failed',
    ])
  })

  it('mentions paused files when interrupted', () => {
    const a = file('a.bin', MiB)
    const h = harness('plain', [a])
    h.renderer.start(a)
    h.renderer.note('interrupted')
    h.renderer.close(true)
    expect(h.lines().at(-1)).toBe('0 of 1 file uploaded (0 B) in 0.0s, 1 paused or not started')
  })

  it('writes nothing in silent mode', () => {
    const a = file('a.bin', MiB)
    const h = harness('silent', [a])
    h.renderer.start(a)
    h.renderer.done(a, { key: 'k', size: MiB, partsResumed: 0 })
    h.renderer.close()
    expect(h.text()).toBe('')
  })
})

describe('ProgressRenderer, terminal mode', () => {
  it('keeps finished lines and redraws bars in place', async () => {
    const a = file('a.bin', 10 * MiB)
    let text = ''
    const renderer = new ProgressRenderer([a], { output: { write: (s: string) => (text += s), columns: 100 }, mode: 'tty', redrawInterval: 5 })
    renderer.start(a)
    renderer.progress(a, progress({ bytesSent: 5 * MiB, partsTotal: 2, rate: MiB, eta: 5 }))
    await new Promise((r) => setTimeout(r, 30))
    renderer.done(a, { key: 'k', size: 10 * MiB, partsResumed: 0 })
    renderer.close()
    expect(text).toContain(' 50% [██████████░░░░░░░░░░] 5.0 MiB/10.0 MiB')
    expect(text).toContain('\x1b[2F\x1b[J') // the two live lines are cleared before "done"
    expect(text).toContain('done   a.bin')
    expect(text).not.toContain('start  a.bin')
  })

  it('fits every live line in the terminal width', () => {
    const long = 'very/long/directory/name/that/goes/on/and/on/forever/file.bin'
    const p = progress({ bytesSent: MiB, rate: MiB, eta: 3 })
    const medium = fileLine(long, p, 4 * MiB, 80)
    expect([...medium].length).toBe(79)
    expect(medium).toMatch(/^ 25% \[██░░░░░░░░\] 1\.0 MiB\/4\.0 MiB  1\.0 MiB\/s  ETA 3s  ….*forever\/file\.bin$/)
    const narrow = fileLine(long, p, 4 * MiB, 60)
    expect([...narrow].length).toBe(59)
    expect(narrow).toMatch(/^ 25% 1\.0 MiB\/4\.0 MiB  1\.0 MiB\/s  ETA 3s  …\/forever\/file\.bin$/)
    expect(fileLine('a.bin', undefined, MiB, 120)).toBe('  0% [░░░░░░░░░░░░░░░░░░░░] 0 B/1.0 MiB  waiting  a.bin')
    expect([...totalLine({ filesDone: 1, filesTotal: 3, bytesSent: MiB, bytesTotal: 9 * MiB, rate: 0 }, 40)].length).toBeLessThanOrEqual(39)
  })
})

describe('ProgressRenderer, 10,000 files', () => {
  const COUNT = 10_000
  const CONCURRENCY = 16
  const files = Array.from({ length: COUNT }, (_, i) => file(`photos/${String(i).padStart(5, '0')}.jpg`, MiB))
  const failing = (i: number) => i % 97 === 13
  const failed = files.filter((_, i) => failing(i)).length
  const resumed = files.filter((_, i) => !failing(i) && i % 10 === 0).length
  const lastFailed = files.findLast((_, i) => failing(i))!.display
  afterEach(() => vi.useRealTimers())

  /**
   * Drives a run like upload-command: CONCURRENCY files in flight, four progress events each
   * (every 25 ms of the renderer's clock), then done or failed; the redraw timer ticks in between.
   */
  function run(mode: 'tty' | 'plain') {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }) // performance.now() stays real
    let now = 0
    let writes = 0
    const chunks: string[] = []
    const renderer = new ProgressRenderer(files, {
      output: { write: (s: string) => (writes++, chunks.push(s)), columns: 100 },
      mode,
      now: () => now,
    })
    const started = performance.now()
    let events = 0
    let eventMs = 0
    for (let at = 0; at < COUNT; at += CONCURRENCY) {
      const batch = files.slice(at, at + CONCURRENCY)
      for (const f of batch) renderer.start(f)
      for (let step = 1; step <= 4; step++) {
        const updates = batch.map(() => progress({ bytesSent: (step * MiB) / 4, bytesTotal: MiB, partsTotal: 1, rate: 8 * MiB, eta: 1 }))
        const before = performance.now()
        batch.forEach((f, j) => renderer.progress(f, updates[j]!))
        eventMs += performance.now() - before
        events += batch.length
        now += 25
        vi.advanceTimersByTime(25)
      }
      batch.forEach((f, j) => {
        const i = at + j
        if (failing(i)) renderer.failed(f, { code: 'network_error', message: `storage unreachable for ${f.display}` })
        else renderer.done(f, { key: `k/${i}`, size: MiB, partsResumed: i % 10 === 0 ? 1 : 0 })
      })
    }
    renderer.close()
    return { text: chunks.join(''), writes, events, eventMs, ms: performance.now() - started, ticks: now / 100 }
  }

  /** What a terminal shows at the end: live views are cleared by the cursor-up sequences. */
  function screen(text: string): { lines: string[]; tallestView: number } {
    const lines: string[] = []
    let tallestView = 0
    for (const piece of text.split(/(\x1b\[\d+F\x1b\[J)/)) {
      const cleared = /^\x1b\[(\d+)F\x1b\[J$/.exec(piece)
      if (cleared) {
        tallestView = Math.max(tallestView, Number(cleared[1]))
        lines.splice(lines.length - Number(cleared[1]))
      } else lines.push(...piece.split('\n').slice(0, -1))
    }
    return { lines, tallestView }
  }

  it('shows one total line, at most 8 bars and the last 5 failures on a terminal, redrawn on the timer only', () => {
    const { text, writes, events, eventMs, ms, ticks } = run('tty')
    const { lines, tallestView } = screen(text)
    // The live view: 5 failures + 8 bars + "… and 8 more in flight" + total.
    expect(tallestView).toBeLessThanOrEqual(5 + 8 + 1 + 1)
    expect(text).toContain('… and 8 more in flight')
    expect(text).toMatch(/total \d+\/10000 files \[/)
    expect(text).toMatch(/total \d+\/10000 files, \d+ failed \[/)
    expect(text).toContain(`failed ${lastFailed}: network_error: storage unreachable`)
    // What stays: the last 5 failures, a note on the others, the summary; no line per file.
    expect(lines).toHaveLength(1 + 5 + 1)
    expect(lines[0]).toBe(`… ${failed - 5} earlier failures not shown (--json prints a line per file)`)
    expect(lines.at(-1)).toBe(`${COUNT - failed} of ${COUNT} files uploaded (${formatBytes((COUNT - failed) * MiB)}) in 1m03s, ${resumed} resumed, ${failed} failed`)
    expect(text).not.toContain('done   ')
    // Writes come from redraws (one clear + one frame each), not from events.
    expect(writes).toBeLessThanOrEqual(2 * ticks + 10)
    expect(events).toBe(4 * COUNT)
    // 40,000 progress events: ~15 ms here; one walk over 10,000 files per event would take seconds.
    expect(eventMs).toBeLessThan(400)
    expect(ms).toBeLessThan(5000) // the whole run, 625 redraws included (~0.7 s on a busy machine)
  })

  it('prints a line per finished or failed file and a total line every 5 s in a log', () => {
    const { text, eventMs } = run('plain')
    const lines = text.split('\n').filter(Boolean)
    expect(lines.filter((l) => l.startsWith('done   '))).toHaveLength(COUNT - failed)
    expect(lines.filter((l) => l.startsWith('failed '))).toHaveLength(failed)
    expect(lines.filter((l) => l.startsWith('resume '))).toHaveLength(resumed)
    const totals = lines.filter((l) => l.startsWith('total '))
    expect(totals.length).toBeGreaterThanOrEqual(12) // 62.5 s of run
    expect(totals.length).toBeLessThanOrEqual(13)
    expect(totals[0]).toMatch(/^total \d+\/10000 files, [\d.]+ MiB of 9\.8 GiB \(\d+%\), [\d.]+ MiB\/s, ETA \S+, \d+ in flight(, \d+ failed)?$/)
    expect(lines.some((l) => l.startsWith('start ') || /^ {7}\S.*%/.test(l))).toBe(false)
    expect(lines).toHaveLength(COUNT + resumed + totals.length + 1)
    expect(text).not.toMatch(/\x1b/)
    expect(eventMs).toBeLessThan(400)
  })
})

describe('modeFor', () => {
  it('uses bars only on a real, capable terminal', () => {
    expect(modeFor({ write: () => {}, isTTY: true }, {})).toBe('tty')
    expect(modeFor({ write: () => {}, isTTY: true }, { TERM: 'dumb' })).toBe('plain')
    expect(modeFor({ write: () => {}, isTTY: true }, { CI: 'true' })).toBe('plain')
    expect(modeFor({ write: () => {} }, {})).toBe('plain')
  })
})
