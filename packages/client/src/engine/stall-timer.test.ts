import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { stallTimer } from './stall-timer.js'

const clock = { now: () => Date.now() }

describe('stallTimer', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('fires once the quiet time has passed since the last touch, not before', () => {
    const onStall = vi.fn()
    const stall = stallTimer(1000, clock, onStall)
    vi.advanceTimersByTime(600)
    stall.touch()
    vi.advanceTimersByTime(999) // 1,599 ms in, 999 ms quiet
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onStall).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(5000)
    expect(onStall).toHaveBeenCalledTimes(1)
  })

  it('never fires while touched, nor after stop, nor with a timeout of 0', () => {
    const onStall = vi.fn()
    const stall = stallTimer(1000, clock, onStall)
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(100)
      stall.touch()
    }
    expect(onStall).not.toHaveBeenCalled()
    stall.stop()
    vi.advanceTimersByTime(5000)
    const off = stallTimer(0, clock, onStall)
    off.touch()
    vi.advanceTimersByTime(5000)
    expect(onStall).not.toHaveBeenCalled()
  })
})
