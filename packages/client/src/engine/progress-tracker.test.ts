import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ProgressTracker, type UploadProgress } from './progress-tracker.js'

describe('ProgressTracker', () => {
  let now = 0
  const clock = { now: () => now }
  beforeEach(() => {
    vi.useFakeTimers()
    now = 0
  })
  afterEach(() => vi.useRealTimers())

  function tracker(interval = 100) {
    const events: UploadProgress[] = []
    const t = new ProgressTracker(4000, interval, clock, (p) => events.push(p))
    t.setPartsTotal(4)
    return { t, events }
  }

  it('counts in-flight bytes, rolls them back on failure, and counts done parts', () => {
    const { t } = tracker(0)
    t.partProgress(1, 600)
    t.partProgress(2, 300)
    expect(t.snapshot()).toMatchObject({ bytesSent: 900, partsDone: 0 })
    t.partRolledBack(2)
    expect(t.snapshot().bytesSent).toBe(600)
    t.partDone(1, 1000)
    expect(t.snapshot()).toMatchObject({ bytesSent: 1000, partsDone: 1, partsTotal: 4 })
  })

  it('throttles to one call per interval, with a trailing call carrying the latest state', () => {
    const { t, events } = tracker(100)
    t.setPhase('uploading')
    for (let i = 1; i <= 10; i++) {
      now += 5
      t.partProgress(1, i * 10)
    }
    expect(events).toHaveLength(1) // the phase change
    now += 100
    vi.advanceTimersByTime(100)
    expect(events).toHaveLength(2)
    expect(events[1]?.bytesSent).toBe(100)
  })

  it('always delivers phase changes and the final call', () => {
    const { t, events } = tracker(10_000)
    t.announce()
    t.setPhase('uploading')
    t.partDone(1, 1000)
    t.setPhase('completing')
    t.finish('complete')
    expect(events.map((e) => e.phase)).toEqual(['preparing', 'uploading', 'completing', 'complete'])
    expect(events.at(-1)).toMatchObject({ bytesSent: 1000, eta: 0 })
  })

  it('smooths the rate and derives the ETA; a rollback is not a negative rate; pause zeroes it', () => {
    const { t } = tracker(0)
    t.setPhase('uploading')
    t.partProgress(1, 0)
    for (let i = 1; i <= 20; i++) {
      now += 100
      if (i <= 10) t.partProgress(1, i * 100) // 1000 B/s
      if (i === 10) t.partDone(1, 1000)
      if (i > 10) t.partProgress(2, (i - 10) * 100)
    }
    const p = t.snapshot()
    expect(p.rate).toBeGreaterThan(900)
    expect(p.rate).toBeLessThan(1100)
    expect(p.eta).toBeCloseTo((4000 - 2000) / p.rate, 5)
    now += 100
    t.partRolledBack(2)
    expect(t.snapshot().rate).toBeGreaterThanOrEqual(0)
    t.setPhase('paused')
    expect(t.snapshot()).toMatchObject({ rate: 0, eta: null })
  })

  it('ignores progress reported for a part that is already done', () => {
    const { t } = tracker(0)
    t.partDone(1, 1000)
    t.partProgress(1, 1000)
    t.partDone(1, 1000)
    expect(t.snapshot()).toMatchObject({ bytesSent: 1000, partsDone: 1 })
  })

  it('survives a throwing callback', () => {
    const t = new ProgressTracker(10, 0, clock, () => {
      throw new Error('ui bug')
    })
    expect(() => t.partDone(1, 10)).not.toThrow()
  })
})
