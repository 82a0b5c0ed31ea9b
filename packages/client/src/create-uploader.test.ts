import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { HttpResponse } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import { createUploader, isValetError, type UploadProgress } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet()
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'valet-client-'))
  dirs.push(d)
  return d
}

describe('createUploader (Node)', () => {
  it('uploads many parts with at most `concurrency` PUTs in flight and keys signed in batches', async () => {
    const fake = setup({ partSize: 1024, putDelayMs: 15 })
    const data = testBytes(40 * 1024 + 100)
    const events: UploadProgress[] = []
    const uploader = createUploader({ endpoint: ENDPOINT, concurrency: 3, resume: false, progressInterval: 0 })
    const result = await uploader.upload(data, { name: 'data.bin', onProgress: (p) => events.push(p) }).done

    expect(result).toEqual({
      // The real server's default object key, and S3's multipart ETag (MD5 of the part MD5s, -count).
      key: expect.stringMatching(/^alice\/[^/]+\/data\.bin$/), size: data.length, etag: expect.stringMatching(/^"[0-9a-f]{32}-41"$/),
      location: expect.any(String), uploadId: 'up-1', result: { id: 42 }, partsResumed: 0,
    })
    expect(fake.stats.maxInFlight).toBe(3)
    expect([...fake.stats.puts.values()].every((n) => n === 1)).toBe(true)
    expect(fake.stats.completes[0]?.map((p) => p.partNumber)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1))
    // One call per window of upcoming parts (8 with concurrency 3), never one per part.
    expect(fake.stats.signCalls).toBeLessThanOrEqual(8)
    expect(fake.stats.signBatches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1))
    expect(Math.max(...fake.stats.signBatches.map((b) => b.length))).toBeGreaterThan(1)
    const last = events.at(-1)
    expect(last).toMatchObject({ bytesSent: data.length, bytesTotal: data.length, partsDone: 41, partsTotal: 41, phase: 'complete', eta: 0 })
    expect(events.map((e) => e.bytesSent)).toEqual([...events.map((e) => e.bytesSent)].sort((a, b) => a - b))
  })

  it('sends the user headers on every key-endpoint call and never to storage; sends the partSize hint', async () => {
    const fake = setup()
    let created: Record<string, unknown> | undefined
    fake.options.onEndpoint = async (op, request) => {
      if (op === 'create') created = (await request.clone().json()) as Record<string, unknown>
      return undefined
    }
    let calls = 0
    const uploader = createUploader({
      endpoint: `${ENDPOINT}/`, resume: false, partSize: 2048,
      headers: async () => ({ authorization: `Bearer t${++calls}` }),
    })
    await uploader.upload(testBytes(3000), { name: 'a.png', metadata: { owner: 'me' } }).done
    expect(created).toMatchObject({ name: 'a.png', size: 3000, type: 'image/png', metadata: { owner: 'me' }, partSize: 2048 })
    expect(fake.stats.endpointHeaders.map((h) => h.get('authorization'))).toEqual(
      fake.stats.endpointHeaders.map((_, i) => `Bearer t${i + 1}`),
    )
    expect(fake.stats.putHeaders.every((h) => h.get('authorization') === null)).toBe(true)
    expect(fake.stats.putHeaders.every((h) => /^[A-Za-z0-9+/]{22}==$/.test(h.get('content-md5') ?? ''))).toBe(true)
  })

  it('reads a file path by ranges; name and type come from the path', async () => {
    const fake = setup({ partSize: 1000 })
    const dir = tempDir()
    const file = join(dir, 'photo.JPG')
    const data = testBytes(4500, 7)
    writeFileSync(file, data)
    let created: Record<string, unknown> | undefined
    fake.options.onEndpoint = async (op, request) => {
      if (op === 'create') created = (await request.clone().json()) as Record<string, unknown>
      return undefined
    }
    const result = await createUploader({ endpoint: ENDPOINT, stateDir: join(dir, 'state') }).upload(file).done
    expect(result.size).toBe(4500)
    expect(created).toMatchObject({ name: 'photo.JPG', type: 'image/jpeg', size: 4500, lastModified: expect.any(Number) })
    expect(fake.uploads.get('up-1')?.parts.get(5)).toEqual({ partNumber: 5, size: 500, etag: `"${fake.md5hex(data.subarray(4000))}"` })
  })

  it('uploads a Blob and a Readable of known size', async () => {
    const fake = setup({ partSize: 512, putDelayMs: 5 })
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 2 })
    const blob = new Blob([testBytes(2000, 3)], { type: 'text/plain' })
    await expect(uploader.upload(blob, { name: 'b.txt' }).done).resolves.toMatchObject({ size: 2000 })
    const data = testBytes(5000, 4)
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(data.subarray(i * 100, i * 100 + 100)))
    const stream = Readable.from(chunks)
    await expect(uploader.upload(stream, { name: 's.bin', size: 5000 }).done).resolves.toMatchObject({ size: 5000 })
    const stored = fake.uploads.get('up-2')
    expect(stored?.parts.size).toBe(10)
    expect(stored?.parts.get(10)).toEqual({ partNumber: 10, size: 392, etag: `"${fake.md5hex(data.subarray(4608))}"` })
  })

  it('keeps at most `concurrency` parts of a stream in memory', async () => {
    const fake = setup({ partSize: 1000, putDelayMs: 10 })
    const data = testBytes(30_000, 5)
    let pulled = 0
    const stream = new Readable({
      highWaterMark: 100,
      read() {
        const chunk = data.subarray(pulled, pulled + 100)
        pulled += chunk.length
        this.push(chunk.length > 0 ? Buffer.from(chunk) : null)
      },
    })
    let worst = 0
    fake.options.onPut = ({ uploadId }) => {
      const stored = fake.uploads.get(uploadId)?.parts.size ?? 0
      worst = Math.max(worst, pulled - stored * 1000)
      return undefined
    }
    await createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 3 }).upload(stream, { name: 's', size: 30_000 }).done
    // 3 parts held, plus what the stream itself buffers ahead (a few 100-byte chunks).
    expect(worst).toBeGreaterThan(2000)
    expect(worst).toBeLessThanOrEqual(3000 + 400)
  })

  it('rejects a stream longer or shorter than its size, without completing', async () => {
    const fake = setup({ partSize: 512 })
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false, retries: 0 })
    const long = uploader.upload(Readable.from([Buffer.from(testBytes(1500))]), { name: 's', size: 1000 })
    await expect(long.done).rejects.toMatchObject({ code: 'invalid_source' })
    const short = uploader.upload(Readable.from([Buffer.from(testBytes(900))]), { name: 's', size: 1000 })
    await expect(short.done).rejects.toMatchObject({ code: 'invalid_source' })
    expect(fake.stats.completes).toHaveLength(0)
  })

  it('throws typed errors at once for sources it cannot take', () => {
    setup()
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false })
    const errorOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return isValetError(e) ? { code: e.code, option: e.context.option } : e
      }
      return undefined
    }
    expect(errorOf(() => uploader.upload(Readable.from([]), { name: 'x' }))).toEqual({ code: 'invalid_option', option: 'size' })
    expect(errorOf(() => uploader.upload(new Uint8Array(3)))).toEqual({ code: 'invalid_option', option: 'name' })
    // Calls an untyped caller could make: past the type checker, on purpose.
    expect(errorOf(() => Reflect.apply(uploader.upload, uploader, [42]))).toEqual({ code: 'invalid_source', option: undefined })
    expect(errorOf(() => Reflect.apply(uploader.upload, uploader, [new Uint8Array(3), { name: 'x', bogus: 1 }]))).toEqual({ code: 'invalid_option', option: 'bogus' })
    expect(errorOf(() => uploader.upload(new Uint8Array(3), { name: 'x', concurrency: 0 }))).toEqual({ code: 'invalid_option', option: 'concurrency' })
  })

  it('maps an error body from the key endpoint to its code, and checks metadata before any traffic', async () => {
    const fake = setup()
    fake.options.onEndpoint = (op) => (op === 'create' ? HttpResponse.json({ error: { code: 'file_too_large', message: 'too big' } }, { status: 413 }) : undefined)
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false })
    await expect(uploader.upload(testBytes(10), { name: 'x' }).done).rejects.toMatchObject({ code: 'file_too_large', context: { status: 413 } })
    await expect(uploader.upload(testBytes(10), { name: 'x', metadata: { 'Bad-Key': 'v' } }).done).rejects.toMatchObject({
      code: 'invalid_option', context: { option: 'metadata.Bad-Key' },
    })
    expect(fake.stats.creates).toBe(0)
  })
})
