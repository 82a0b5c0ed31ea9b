import { HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { createUploader } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet({ partSize: 500 })
const upload = (size: number, concurrency = 3) =>
  createUploader({ endpoint: ENDPOINT, resume: false, concurrency, retryDelay: 1 }).upload(testBytes(size), { name: 'k.bin' }).done
const resigned = (fake: ReturnType<typeof setup>) => {
  const all = fake.stats.signBatches.flat()
  return all.length - new Set(all).size
}

describe('valet key lifetimes', () => {
  // A 4 s key scaled down ten times, with parts that take a quarter of its life.
  it('short keys: refreshed by the clock, no PUT ever starts on an expired or nearly expired key', async () => {
    const fake = setup({ keyTtlMs: 400, putDelayMs: 100 })
    await upload(15_000)
    expect(fake.stats.expiredPuts).toBe(0)
    expect([...fake.stats.puts.values()].every((n) => n === 1)).toBe(true)
    expect(resigned(fake)).toBeGreaterThan(0) // keys signed ahead went stale and were signed again
    expect(fake.stats.minTimeLeftMs).toBeGreaterThan(100) // the scaled-down "~1 s": half the key's life, less latency
  })

  for (const offset of [3_600_000, -3_600_000]) {
    it(`corrects for a server clock ${offset > 0 ? 'ahead' : 'behind'} by an hour using serverTime`, async () => {
      // One worker: keys signed ahead wait in the cache past their lifetime unless skew is corrected.
      const fake = setup({ keyTtlMs: 400, putDelayMs: 100, clockOffsetMs: offset })
      await upload(3500, 1)
      expect(fake.stats.expiredPuts).toBe(0)
      expect([...fake.stats.puts.values()].every((n) => n === 1)).toBe(true)
    })
  }

  it('re-signs and retries a part storage refused as expired', async () => {
    const fake = setup({ keyTtlMs: 60_000 })
    fake.options.onPut = ({ partNumber, attempt }) =>
      partNumber === 1 && attempt === 1
        ? new HttpResponse('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 })
        : undefined
    await upload(1200)
    expect(fake.stats.puts.get(1)).toBe(2)
    expect(fake.stats.signBatches.filter((b) => b.includes(1))).toHaveLength(2)
  })

  it('fails typed when every key arrives already too old (keys shorter than the round trip)', async () => {
    const fake = setup({ keyTtlMs: 1 })
    await expect(upload(600)).rejects.toMatchObject({ code: 'server_error', message: expect.stringContaining('expired before') })
    expect(fake.stats.puts.size).toBe(0)
  })
})
