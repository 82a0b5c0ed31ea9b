import { describe, expect, it } from 'vitest'
import {
  clockVerdict,
  dateHeaderTime,
  formatSeconds,
  lifetimeVerdict,
  partSizeThatFits,
  requiredLifetimeMs,
  signedSeconds,
  skewAt,
  suggestedKeyTtl,
} from './doctor-clock.js'

const MiB = 1024 * 1024

describe('skew math', () => {
  it('reads the remote clock at the midpoint of the exchange', () => {
    expect(skewAt(10_050, 10_000, 10_100)).toBe(0)
    expect(skewAt(70_000, 10_000, 10_200)).toBe(59_900)
    expect(skewAt(0, 10_000, 10_000)).toBe(-10_000)
  })

  it('takes a Date header to stand for the middle of its second', () => {
    expect(dateHeaderTime('Sun, 29 Nov 2026 13:53:33 GMT')).toBe(Date.UTC(2026, 10, 29, 13, 53, 33) + 500)
    expect(dateHeaderTime('not a date')).toBeUndefined()
    expect(dateHeaderTime(undefined)).toBeUndefined()
  })

  it('formats seconds with a sign, never "-0.0 s"', () => {
    expect(formatSeconds(1234)).toBe('1.2 s')
    expect(formatSeconds(-42_400)).toBe('42 s')
    expect(signedSeconds(1234)).toBe('+1.2 s')
    expect(signedSeconds(-1234)).toBe('-1.2 s')
    expect(signedSeconds(-20)).toBe('+0.0 s')
  })
})

describe('clockVerdict (storage vs key server)', () => {
  it('is ok within 30 s either way', () => {
    expect(clockVerdict(100, 29_000).status).toBe('ok')
    expect(clockVerdict(100, -29_000)).toMatchObject({ status: 'ok', message: expect.stringMatching(/agree within 29 s/) })
  })

  it('warns when storage is ahead: keys lose that much life, and says which clock is off', () => {
    const v = clockVerdict(0, 45_000)
    expect(v.status).toBe('warn')
    expect(v.message).toMatch(/storage's clock is 45 s ahead of the key server's: every key loses 45 s/)
    expect(v.message).toMatch(/this machine agrees with the key server: storage's clock is off/)
    expect(v.fix).toMatch(/NTP.*add 45 s to keyTtl/)
  })

  it('warns when storage is behind, blaming the key server when this machine agrees with storage', () => {
    const v = clockVerdict(120_000, 1_000)
    expect(v.status).toBe('warn')
    expect(v.message).toMatch(/storage's clock is 119 s behind .* 15 min/)
    expect(v.message).toMatch(/the key server's clock is off/)
    expect(v.fix).not.toMatch(/add/)
  })
})

describe('key lifetime vs part time', () => {
  it('needs 3 × part time + 30 s, and suggests keyTtl in whole minutes, at least the default', () => {
    expect(requiredLifetimeMs(10_000)).toBe(60_000)
    expect(suggestedKeyTtl(31_000)).toBe(900)
    expect(suggestedKeyTtl(1_000_001)).toBe(1020)
  })

  it('finds the largest part a key fits, if Valet would plan one that small', () => {
    expect(partSizeThatFits(330_000, 1 * MiB)).toBe(100 * MiB)
    expect(partSizeThatFits(31_000, 1 * MiB)).toBeUndefined()
  })

  it('is ok with the default 900 s keys on a fast link', () => {
    const v = lifetimeVerdict({ lifetimeMs: 900_000, partSize: 8 * MiB, rate: 40 * MiB, storageAheadMs: 300 })
    expect(v).toMatchObject({ status: 'ok', message: expect.stringMatching(/^keys live 900 s; a 8\.0 MiB part takes 0\.2 s at 40\.0 MiB\/s/) })
  })

  it('warns about 2 s keys, with keyTtl as the fix (no part size fits)', () => {
    const v = lifetimeVerdict({ lifetimeMs: 2_000, partSize: 8 * MiB, rate: 40 * MiB, storageAheadMs: 0 })
    expect(v.status).toBe('warn')
    expect(v.message).toMatch(/keys live only 2\.0 s, under the 31 s/)
    expect(v.fix).toBe('raise keyTtl: createValet({ ..., keyTtl: 900 }) (seconds, default 900)')
  })

  it('warns on a slow link, offering a smaller part size too, and counts a storage lead beyond the Date resolution', () => {
    // 64 MiB parts at 256 KiB/s: 256 s per part, 798 s needed; 900 s keys minus a 200 s lead leave 700.
    const v = lifetimeVerdict({ lifetimeMs: 900_000, partSize: 64 * MiB, rate: 256 * 1024, storageAheadMs: 200_000 })
    expect(v.status).toBe('warn')
    expect(v.message).toMatch(/keys live only 700 s \(900 s minus storage's 200 s lead\), under the 798 s/)
    expect(v.fix).toMatch(/keyTtl: 1020 \}.*or lower partSize to 55\.8 MiB or less/)
    // Under a second of lead is the Date header's own rounding: ignored.
    expect(lifetimeVerdict({ lifetimeMs: 31_000, partSize: 8 * MiB, rate: undefined, storageAheadMs: 900 }).status).toBe('ok')
  })

  it('without a rate, checks the 30 s margin alone', () => {
    expect(lifetimeVerdict({ lifetimeMs: 20_000, partSize: 8 * MiB, rate: undefined, storageAheadMs: undefined })).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/upload rate unknown/),
    })
  })
})
