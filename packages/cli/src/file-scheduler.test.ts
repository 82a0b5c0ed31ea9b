import { describe, expect, it } from 'vitest'
import { expectedParts, runWithSlots } from './file-scheduler.js'

const MiB = 1024 * 1024

describe('expectedParts', () => {
  it('counts parts of the requested size, never smaller than 5 MiB', () => {
    expect(expectedParts(1, undefined, 8 * MiB)).toBe(1)
    expect(expectedParts(60 * MiB, 5 * MiB, 8 * MiB)).toBe(12)
    expect(expectedParts(60 * MiB, 1 * MiB, 8 * MiB)).toBe(12)
    expect(expectedParts(60 * MiB, undefined, 8 * MiB)).toBe(8)
  })
})

describe('runWithSlots', () => {
  it('never runs more slots than the capacity, in order, and gives big items the whole budget', async () => {
    const sizes = [1, 1, 9, 1, 2, 3, 1]
    let inUse = 0
    let peak = 0
    const started: number[] = []
    const granted: number[] = []
    await runWithSlots(
      sizes.map((s, i) => ({ i, s })),
      4,
      (item) => item.s,
      async (item, slots) => {
        started.push(item.i)
        granted.push(slots)
        inUse += slots
        peak = Math.max(peak, inUse)
        await new Promise((r) => setTimeout(r, 5 + item.s))
        inUse -= slots
      },
      () => false,
    )
    expect(peak).toBeLessThanOrEqual(4)
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(granted).toEqual([1, 1, 4, 1, 2, 3, 1])
  })

  it('starts nothing new once stopped, and still waits for what runs', async () => {
    let stop = false
    const done: number[] = []
    await runWithSlots(
      [1, 2, 3],
      1,
      () => 1,
      async (n) => {
        await new Promise((r) => setTimeout(r, 5))
        done.push(n)
        stop = true
      },
      () => stop,
    )
    expect(done).toEqual([1])
  })

  it('keeps going after a failed item', async () => {
    const seen: number[] = []
    await runWithSlots([1, 2], 1, () => 1, async (n) => {
      seen.push(n)
      if (n === 1) throw new Error('boom')
    }, () => false)
    expect(seen).toEqual([1, 2])
  })
})
