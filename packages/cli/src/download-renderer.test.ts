import { describe, expect, it } from 'vitest'
import { DownloadRenderer, type DownloadItem, type DownloadProgressView } from './download-renderer.js'

const MiB = 1024 * 1024
const item = (key: string, display: string): DownloadItem => ({ key, display })

function harness(mode: 'plain' | 'silent' | 'tty', items: DownloadItem[]) {
  let text = ''
  let now = 0
  const renderer = new DownloadRenderer(items, { output: { write: (s: string) => (text += s), columns: 80 }, mode, now: () => now, redrawInterval: 60_000 })
  return { renderer, advance: (ms: number) => (now += ms), text: () => text, lines: () => text.split('\n').filter(Boolean) }
}

const progress = (p: Partial<DownloadProgressView>): DownloadProgressView => ({
  bytesReceived: 0, bytesTotal: 0, bytesResumed: 0, rangesDone: 0, rangesTotal: 0, rate: 0, eta: null, phase: 'downloading', ...p,
})

describe('DownloadRenderer', () => {
  it('plain: start, periodic percent lines, done with the verification, a summary; no escape codes', () => {
    const a = item('dev/1/a.bin', 'got/a.bin')
    const h = harness('plain', [a])
    h.renderer.start(a)
    h.advance(6000)
    h.renderer.progress(a, progress({ bytesReceived: 6 * MiB, bytesTotal: 12 * MiB, bytesResumed: 4 * MiB, rangesDone: 1, rangesTotal: 2, rate: MiB, eta: 6 }))
    h.renderer.done(a, { size: 12 * MiB, verified: 'parts', bytesResumed: 4 * MiB })
    h.renderer.close()
    expect(h.lines()).toEqual([
      'start  dev/1/a.bin → got/a.bin',
      '       got/a.bin 50% (6.0 MiB of 12.0 MiB, 1/2 ranges, 1.0 MiB/s, ETA 6s)',
      'done   got/a.bin (12.0 MiB in 6.0s, 1.3 MiB/s, 4.0 MiB resumed from an earlier run, verified: every part checked against its MD5)',
      '1 of 1 file downloaded (12.0 MiB) in 6.0s, 8.0 MiB received in this run, 1 resumed',
    ])
    expect(h.text()).not.toMatch(/\x1b/)
  })

  it('tty: a bar per file in flight and a total line, redrawn in place; failures stay above', async () => {
    const a = item('dev/1/a.bin', 'a.bin')
    const b = item('dev/1/b.bin', 'b.bin')
    let text = ''
    const renderer = new DownloadRenderer([a, b], { output: { write: (s: string) => (text += s), columns: 80 }, mode: 'tty', redrawInterval: 5 })
    renderer.start(a)
    renderer.start(b)
    renderer.progress(a, progress({ bytesReceived: 5 * MiB, bytesTotal: 10 * MiB, rate: MiB, eta: 5 }))
    await new Promise((r) => setTimeout(r, 30))
    expect(text).toContain(' 50% [██████████░░░░░░░░░░] 5.0 MiB/10.0 MiB  1.0 MiB/s  ETA 5s  a.bin')
    expect(text).toContain('  0% [░░░░░░░░░░░░░░░░░░░░] 0 B/0 B  opening  b.bin')
    expect(text).toMatch(/total 0\/2 files \[/)
    renderer.failed(b, { code: 'forbidden', message: 'no' })
    renderer.close(true)
    expect(text).toContain('\x1b[')
    expect(text).toContain('failed dev/1/b.bin → b.bin: forbidden: no\n')
    expect(text).toMatch(/0 of 2 files downloaded \(0 B\) in [\d.]+s, 5\.0 MiB received in this run, 1 failed, 1 paused or not started\n$/)
  })

  it('silent prints nothing', () => {
    const a = item('k', 'k')
    const h = harness('silent', [a])
    h.renderer.start(a)
    h.renderer.done(a, { size: 1, verified: 'md5', bytesResumed: 0 })
    h.renderer.close()
    expect(h.text()).toBe('')
  })
})
