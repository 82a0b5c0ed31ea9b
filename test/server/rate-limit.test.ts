/** 10,000 concurrent creates from one principal: the rate-limit hook holds, the server keeps serving. */
import { describe, expect, it } from 'vitest'
import { memoryRateLimit } from '@valet/server'
import { keyEndpoint } from '../support/key-endpoint.js'
import { swiftCase } from '../support/storages.js'

describe('rate limiting', () => {
  it('refuses a flood of creates with 429 + Retry-After before storage sees them', async () => {
    const storage = swiftCase()
    const provider = storage.provider()
    let storageCreates = 0
    const counted = { ...provider, create: (input: Parameters<typeof provider.create>[0]) => (storageCreates++, provider.create(input)) }
    const { valet, call } = keyEndpoint(counted, { rateLimit: memoryRateLimit({ create: { burst: 20, perSecond: 2 } }) })
    const body = JSON.stringify({ name: 'flood.bin', size: 1 })
    const flood = await Promise.all(
      Array.from({ length: 10_000 }, () =>
        valet.fetch(new Request('http://127.0.0.1/api/valet/uploads', { method: 'POST', headers: { 'x-user': 'mallory', 'content-type': 'application/json' }, body })),
      ),
    )
    const statuses = new Map<number, number>()
    for (const r of flood) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
    const created = statuses.get(201) ?? 0
    expect(created).toBeGreaterThanOrEqual(20)
    expect(created).toBeLessThanOrEqual(40) // burst + refill during the run
    expect(statuses.get(429)).toBe(10_000 - created)
    expect(storageCreates).toBe(created)
    const refused = flood.find((r) => r.status === 429)!
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await refused.json()).error.code).toBe('rate_limited')

    // Other principals are unaffected; the server keeps serving.
    const other = await call('POST', '/uploads', { name: 'ok.bin', size: 1 }, { 'x-user': 'alice' })
    expect(other.status).toBe(201)
    const aborted = [await call('DELETE', `/uploads/${encodeURIComponent(other.body.uploadId)}`, undefined, { 'x-user': 'alice', 'valet-token': other.body.token })]
    for (const r of flood.filter((f) => f.status === 201)) {
      const up = await r.json()
      aborted.push(await call('DELETE', `/uploads/${encodeURIComponent(up.uploadId)}`, undefined, { 'x-user': 'mallory', 'valet-token': up.token }))
    }
    expect(aborted.map((a) => a.status)).toEqual(Array(created + 1).fill(204))
    expect(await storage.openUploads('mallory/')).toBe(0)
  })
})
