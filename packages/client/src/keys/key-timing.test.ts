import { describe, expect, it } from 'vitest'
import { clockSkew, isFreshUsable, isUsable, refreshMargin, signWindow, toLocalKey } from './key-timing.js'

const T = Date.parse('2030-01-01T00:00:00Z')
const signed = (expiresIn: number, serverOffset = 0) => ({
  part: { partNumber: 1, url: 'u', method: 'PUT' as const, headers: {}, expiresAt: new Date(T + serverOffset + expiresIn).toISOString() },
  timing: { sentAt: T - 50, receivedAt: T + 50, serverTime: T + serverOffset },
})

describe('clock skew', () => {
  it('takes the server reading to be at the middle of the round trip', () => {
    expect(clockSkew({ sentAt: 1000, receivedAt: 1200, serverTime: 5100 })).toBe(4000)
    expect(clockSkew({ sentAt: 1000, receivedAt: 1000, serverTime: 0 })).toBe(-1000)
  })

  it('puts expiry in local time, pulled in by half the round trip; lifetime is skew-free', () => {
    const { part, timing } = signed(900_000, 3_600_000)
    const key = toLocalKey(part, 'md5', timing)
    expect(key.lifetime).toBe(900_000)
    expect(key.expiresAt).toBe(T + 900_000 - 50)
  })
})

describe('refresh margin', () => {
  it('is max(30 s, 3 × part time) for normal keys', () => {
    expect(refreshMargin(900_000, 0)).toBe(30_000)
    expect(refreshMargin(900_000, 20_000)).toBe(60_000)
  })

  it('is capped at half the lifetime, so short keys work', () => {
    expect(refreshMargin(4000, 0)).toBe(2000)
    expect(refreshMargin(4000, 8000)).toBe(2000)
    expect(refreshMargin(60_000, 60_000)).toBe(30_000)
  })

  it('a 4 s key: usable from the cache for its first ~2 s, never with less than 1 s left', () => {
    const { part, timing } = signed(4000)
    const key = toLocalKey(part, 'md5', timing)
    expect(isUsable(key, T, 500)).toBe(true)
    expect(isUsable(key, T + 1900, 500)).toBe(true)
    expect(isUsable(key, T + 2000, 500)).toBe(false)
    // Just received for the part that asked: may start down to 1 s left, not below.
    expect(isFreshUsable(key, T + 2900)).toBe(true)
    expect(isFreshUsable(key, T + 2960)).toBe(false)
  })

  it('a 15 min key with 10 s parts is refreshed with 30 s left; with 20 s parts, 60 s', () => {
    const { part, timing } = signed(900_000)
    const key = toLocalKey(part, 'md5', timing)
    expect(isUsable(key, T + 900_000 - 50 - 30_001, 10_000)).toBe(true)
    expect(isUsable(key, T + 900_000 - 50 - 30_000, 10_000)).toBe(false)
    expect(isUsable(key, T + 900_000 - 50 - 59_000, 20_000)).toBe(false)
  })
})

describe('sign window', () => {
  it('is max(2 × concurrency, 8), at most 100, before anything is measured', () => {
    expect(signWindow(1)).toBe(8)
    expect(signWindow(4)).toBe(8)
    expect(signWindow(16)).toBe(32)
    expect(signWindow(64)).toBe(100)
  })
  it('shrinks to the parts that will start while a key is usable', () => {
    expect(signWindow(4, 900_000, 1000)).toBe(8)
    expect(signWindow(4, 4000, 1000)).toBe(8) // 1 + 4 × 2 s / 1 s = 9 → 8
    expect(signWindow(4, 4000, 4000)).toBe(3) // 1 + 4 × 2 / 4
    expect(signWindow(4, 4000, 20_000)).toBe(1) // keys shorter than parts: sign as parts start
  })
})
