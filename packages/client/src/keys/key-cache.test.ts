import { describe, expect, it } from 'vitest'
import type { PartToSign } from '@valet/protocol'
import { KeyCache } from './key-cache.js'

/** A KeyCache over a fake clock and a fake sign call that takes `rtt` ms of that clock. */
function harness({ concurrency = 2, lifetime = 4000, rtt = 20, parts = 20, serverOffset = 0 } = {}) {
  const clock = { t: 1_000_000, now: () => clock.t }
  const calls: number[][] = []
  const notStarted = new Set(Array.from({ length: parts }, (_, i) => i + 1))
  let readable = (_n: number) => true
  const cache = new KeyCache({
    concurrency,
    clock,
    md5: async (n) => `md5-${n}`,
    partSize: () => 100,
    upcoming: () => notStarted,
    canReadAhead: (n) => readable(n),
    sign: async (toSign: PartToSign[]) => {
      calls.push(toSign.map((p) => p.partNumber))
      const sentAt = clock.t
      clock.t += rtt
      const serverTime = sentAt + rtt / 2 + serverOffset
      return {
        parts: toSign.map((p) => ({ partNumber: p.partNumber, url: `u${p.partNumber}`, method: 'PUT' as const, headers: {}, expiresAt: new Date(serverTime + lifetime).toISOString() })),
        timing: { sentAt, receivedAt: clock.t, serverTime },
      }
    },
  })
  const start = (n: number) => {
    notStarted.delete(n)
    return cache.keyFor(n, new AbortController().signal)
  }
  return { cache, clock, calls, notStarted, start, setReadable: (f: (n: number) => boolean) => (readable = f) }
}

describe('KeyCache', () => {
  it('serves parts that start together from one sign call, then signs the rest of the window', async () => {
    const h = harness({ concurrency: 2 })
    const keys = await Promise.all([h.start(1), h.start(2)])
    expect(keys.map((k) => k.url)).toEqual(['u1', 'u2'])
    await new Promise((r) => setTimeout(r, 0)) // the second call goes out after its hashes
    // Part 2 joined the call part 1 started; that call waited for `concurrency` hashes only.
    expect(h.calls).toEqual([[1, 2], [3, 4, 5, 6, 7, 8]])
    expect(keys[0]?.md5).toBe('md5-1')
  })

  it('reuses a key while it has more than its margin left, then signs again (4 s key: 2 s margin)', async () => {
    const h = harness({ lifetime: 4000, rtt: 0 })
    await h.start(1)
    h.notStarted.clear() // nothing upcoming: no prefetch in the way
    h.clock.t += 1900
    await h.cache.keyFor(1, new AbortController().signal)
    expect(h.calls).toHaveLength(1)
    h.clock.t += 200
    await h.cache.keyFor(1, new AbortController().signal)
    expect(h.calls).toHaveLength(2)
  })

  it('uses a key just received for the asking part down to 1 s left, not below', async () => {
    const slow = harness({ lifetime: 4000, rtt: 2600, parts: 1 })
    const key = await slow.start(1) // left ≈ 4000 − 1300 − 1300 (half round trip, twice)
    expect(key.expiresAt - slow.clock.t).toBeGreaterThan(1000)
    expect(slow.calls).toHaveLength(1)
  })

  it('fails typed when every fresh key is already too old', async () => {
    const h = harness({ lifetime: 500, rtt: 1000, parts: 1 })
    await expect(h.start(1)).rejects.toMatchObject({ code: 'server_error', context: { partNumber: 1 } })
    expect(h.calls).toHaveLength(3)
  })

  it('forgets an invalidated key: the retry gets a new one', async () => {
    const h = harness({ parts: 1 })
    await h.start(1)
    h.cache.invalidate(1)
    await h.cache.keyFor(1, new AbortController().signal)
    expect(h.calls).toEqual([[1], [1]])
  })

  it('signs the next window in the background when fewer than `concurrency` upcoming parts have keys', async () => {
    const h = harness({ concurrency: 2, parts: 20 })
    await h.start(1) // signs 1..2, then 3..8
    for (let n = 2; n <= 7; n++) h.notStarted.delete(n)
    await h.cache.keyFor(7, new AbortController().signal) // only part 8 ready: prefetch from 9
    await new Promise((r) => setTimeout(r, 0))
    // A background window has nobody waiting on it: one call for all of it.
    expect(h.calls).toEqual([[1, 2], [3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]])
  })

  it('shrinks the window to what can be read ahead (streams) and to what starts before keys go stale', async () => {
    const h = harness({ concurrency: 2, parts: 20 })
    h.setReadable((n) => n <= 2)
    await h.start(1)
    expect(h.calls).toEqual([[1, 2]])
    const short = harness({ concurrency: 2, lifetime: 4000, rtt: 0, parts: 20 })
    short.cache.recordPartTime(8000) // parts slower than keys live: sign one at a time
    short.cache.recordPartTime(8000)
    await short.start(1)
    short.cache.invalidate(1)
    await short.cache.keyFor(1, new AbortController().signal)
    expect(short.calls[1]).toEqual([1])
  })

  for (const [label, serverOffset] of [['10 min fast', -600_000], ['10 min slow', 600_000]] as const) {
    it(`with a local clock ${label}: keys last their lifetime on the local clock, serverNow() reads the server's`, async () => {
      const h = harness({ lifetime: 4000, rtt: 100, parts: 1, serverOffset })
      expect(h.cache.serverNow()).toBe(h.clock.t) // nothing measured yet
      const key = await h.start(1)
      // Server time was read mid-round-trip: serverNow is exact here, and the key has its
      // lifetime less the half round trip of uncertainty left, on the local clock.
      expect(h.cache.serverNow() - h.clock.t).toBe(serverOffset)
      expect(key.expiresAt - h.clock.t).toBe(4000 - 50 - 50)
      expect(h.cache.nearExpiry(key)).toBe(false)
      h.clock.t += 1900
      expect(h.cache.nearExpiry(key)).toBe(true) // 4 s key: 2 s margin
      expect(h.cache.serverNow() - h.clock.t).toBe(serverOffset)
    })
  }
})
