import { HttpResponse, delay } from 'msw'
import { describe, expect, it } from 'vitest'
import { createMemoryResumeStore, createUploader, type UploaderOptions } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet({ partSize: 1000 })
const fast: Partial<UploaderOptions> = { resume: false, retryDelay: 1, maxRetryDelay: 5, concurrency: 2 }
const upload = (data: Uint8Array, options: Partial<UploaderOptions> = {}) =>
  createUploader({ endpoint: ENDPOINT, ...fast, ...options }).upload(data, { name: 'f.bin' }).done
const signedFor = (fake: ReturnType<typeof setup>, n: number) => fake.stats.signBatches.filter((b) => b.includes(n)).length

describe('part retries', () => {
  it('retries 500s and connection resets, signing the part again before each retry', async () => {
    const fake = setup()
    fake.options.onPut = ({ partNumber, attempt }) => {
      if (partNumber === 2 && attempt <= 2) return new HttpResponse('<Error><Code>InternalError</Code></Error>', { status: 500 })
      if (partNumber === 4 && attempt === 1) return HttpResponse.error()
      return undefined
    }
    await upload(testBytes(5000))
    expect(fake.stats.puts.get(2)).toBe(3)
    expect(fake.stats.puts.get(4)).toBe(2)
    expect(signedFor(fake, 2)).toBe(3)
    expect(signedFor(fake, 4)).toBe(2)
    expect(fake.stats.completes).toHaveLength(1)
  })

  it('aborts and retries a PUT that stalls (no progress, no answer) for stallTimeout', async () => {
    const fake = setup()
    fake.options.onPut = async ({ partNumber, attempt }) => {
      if (partNumber === 1 && attempt === 1) await delay(1500)
      return undefined
    }
    const started = Date.now()
    await upload(testBytes(1500), { stallTimeout: 150 })
    expect(Date.now() - started).toBeLessThan(1200)
    expect(fake.stats.puts.get(1)).toBe(2)
  })

  it('honours Retry-After on 503', async () => {
    const fake = setup()
    const at: number[] = []
    fake.options.onPut = ({ partNumber, attempt }) => {
      if (partNumber !== 1) return undefined
      at.push(Date.now())
      return attempt === 1 ? new HttpResponse('slow down', { status: 503, headers: { 'Retry-After': '1' } }) : undefined
    }
    await upload(testBytes(1500))
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(950)
  })

  for (const [label, clockOffsetMs] of [['10 min slow', 600_000], ['10 min fast', -600_000]] as const) {
    it(`reads an HTTP-date Retry-After on 503 against the server's clock, with the local clock ${label}`, async () => {
      const fake = setup({ clockOffsetMs })
      const at: number[] = []
      fake.options.onPut = ({ partNumber, attempt }) => {
        if (partNumber !== 1) return undefined
        at.push(Date.now())
        // 2 s from now on storage's clock (the server's), in whole seconds: a wait of 1-2 s.
        const retryAt = new Date(Date.now() + clockOffsetMs + 2000).toUTCString()
        return attempt === 1 ? new HttpResponse('slow down', { status: 503, headers: { 'Retry-After': retryAt } }) : undefined
      }
      await upload(testBytes(1500))
      // Read against the local clock it would be 10 min (capped at 5) or nothing at all.
      const waited = (at[1] ?? 0) - (at[0] ?? 0)
      expect(waited).toBeGreaterThanOrEqual(900)
      expect(waited).toBeLessThan(3000)
    }, 10_000)
  }

  it('re-uploads a part whose ETag is not the MD5 it sent (checksum_mismatch), and a BadDigest', async () => {
    const fake = setup()
    fake.options.onPut = ({ partNumber, attempt }) => {
      if (partNumber === 2 && attempt === 1) return new HttpResponse(null, { status: 200, headers: { ETag: '"0123456789abcdef0123456789abcdef"' } })
      if (partNumber === 3 && attempt === 1) return new HttpResponse('<Error><Code>BadDigest</Code></Error>', { status: 400 })
      return undefined
    }
    const data = testBytes(3500)
    await upload(data)
    expect(fake.stats.puts.get(2)).toBe(2)
    expect(fake.stats.puts.get(3)).toBe(2)
    expect(fake.stats.completes[0]?.[1]).toEqual({ partNumber: 2, etag: `"${fake.md5hex(data.subarray(1000, 2000))}"` })
  })

  for (const etagStyle of ['azure', 'azurite'] as const) {
    it(`accepts ${etagStyle} answers to Put Block (no ETag${etagStyle === 'azure' ? ', Content-MD5 echoed' : ', nothing echoed'})`, async () => {
      const fake = setup({ etagStyle })
      await upload(testBytes(2500))
      expect(fake.stats.completes[0]?.every((p) => /^[A-Za-z0-9+/]{22}==$/.test(p.etag))).toBe(true)
    })
  }

  it('fails typed, without retrying, on a 4xx retrying cannot fix, and keeps resume state', async () => {
    const fake = setup()
    fake.options.onPut = ({ partNumber }) =>
      partNumber === 2 ? new HttpResponse('<Error><Code>AccessDenied</Code><Message>Bucket policy</Message></Error>', { status: 403 }) : undefined
    const store = createMemoryResumeStore()
    const error = await upload(testBytes(5000), { resume: store, concurrency: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'storage_rejected', context: { status: 403, partNumber: 2, body: expect.stringContaining('Bucket policy') } })
    expect(fake.stats.puts.get(2)).toBe(1)
    expect(fake.stats.completes).toHaveLength(0)
    expect(fake.stats.deletes).toBe(0)
  })

  it('fails with a message about CORS when storage exposes no ETag', async () => {
    const fake = setup()
    fake.options.onPut = () => new HttpResponse(null, { status: 200 })
    await expect(upload(testBytes(500))).rejects.toMatchObject({ code: 'storage_rejected', message: expect.stringContaining('CORS') })
    expect(fake.stats.puts.get(1)).toBe(1)
  })

  it('gives up with retries_exhausted (cause: the last error) after `retries` retries', async () => {
    const fake = setup()
    fake.options.onPut = () => new HttpResponse('boom', { status: 500 })
    const error = await upload(testBytes(3000), { retries: 2 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'retries_exhausted', cause: { code: 'storage_rejected', context: { status: 500 } } })
    expect(Math.max(...fake.stats.puts.values())).toBe(3)
    expect(fake.stats.completes).toHaveLength(0)
  })

  it('starts a part\'s count over while other parts land, but not forever', async () => {
    const fake = setup({ putDelayMs: 2 })
    fake.options.onPut = ({ partNumber }) => (partNumber === 1 ? HttpResponse.error() : undefined)
    const error = await upload(testBytes(30_000), { retries: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'retries_exhausted', context: { partNumber: 1 }, cause: { code: 'network_error' } })
    const attempts = fake.stats.puts.get(1) ?? 0
    expect(attempts).toBeGreaterThan(2) // reset by progress at least once
    expect(attempts).toBeLessThanOrEqual(8) // the ceiling: 4 × (retries + 1)
  })
})

describe('key-endpoint retries', () => {
  it('retries a sign call that met a 503 or a reset; does not retry a 500 from complete', async () => {
    const fake = setup()
    let signs = 0
    fake.options.onEndpoint = (op) => {
      if (op === 'sign' && ++signs === 1) return HttpResponse.json({ error: { code: 'storage_error', message: 'x' } }, { status: 503 })
      if (op === 'sign' && signs === 2) return HttpResponse.error()
      if (op === 'complete') return HttpResponse.json({ error: { code: 'internal_error', message: 'onComplete threw' } }, { status: 500 })
      return undefined
    }
    const error = await upload(testBytes(1500)).catch((e: unknown) => e)
    expect(signs).toBe(3)
    expect(error).toMatchObject({ code: 'internal_error', context: { status: 500, operation: 'complete' } })
  })

  it('wraps exhausted key-endpoint retries with the last error as cause', async () => {
    const fake = setup()
    fake.options.onEndpoint = () => HttpResponse.error()
    await expect(upload(testBytes(100), { retries: 1, retryWindow: 0 })).rejects.toMatchObject({
      code: 'retries_exhausted', context: { operation: 'create' }, cause: { code: 'network_error' },
    })
  })
})
