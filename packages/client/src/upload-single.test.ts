import { createHash } from 'node:crypto'
import { HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { createMemoryResumeStore, createUploader, type ResumeState, type ResumeStore } from './index.node.js'
import { ENDPOINT, testBytes, type PutInfo } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet({ partSize: 1000 })
const md5 = (b: Uint8Array, enc: 'base64' | 'hex') => createHash('md5').update(b).digest(enc)
const s3Error = (status: number, code: string) => new HttpResponse(`<Error><Code>${code}</Code></Error>`, { status })

/** A PUT that stores the object and loses its answer: what a dropped connection after the write looks like. */
function landThenLose(fake: ReturnType<typeof setup>, answer: () => Response) {
  return ({ key, uploadId, body, attempt }: PutInfo) => {
    if (attempt !== 1) return undefined
    fake.memory.putObject(key, uploadId, { size: body.byteLength, md5: md5(body, 'base64'), etag: `"${md5(body, 'hex')}"` })
    return answer()
  }
}

/** A resume store that remembers what was saved, for the tests to read. */
function recordingStore(): ResumeStore & { saved: ResumeState[] } {
  const inner = createMemoryResumeStore()
  const saved: ResumeState[] = []
  return { saved, get: (fp) => inner.get(fp), set: async (fp, s) => (saved.push(s), inner.set(fp, s)), remove: (fp) => inner.remove(fp) }
}

describe('single-PUT uploads', () => {
  it('a file that fits one part: create carries its MD5, its key comes with create (no sign call), one PUT, complete', async () => {
    const fake = setup()
    const data = testBytes(900, 3)
    const result = await createUploader({ endpoint: ENDPOINT, resume: false }).upload(data, { name: 'small.bin' }).done
    expect(result).toMatchObject({ size: 900, etag: `"${md5(data, 'hex')}"`, result: { id: 42 } })
    expect(fake.stats.createBodies[0]?.md5).toBe(md5(data, 'base64'))
    expect(fake.stats.signCalls).toBe(0)
    expect(fake.stats.puts.get(1)).toBe(1)
    expect(fake.stats.putHeaders[0]?.get('if-none-match')).toBe('*')
    expect(fake.stats.completes).toEqual([[{ partNumber: 1, etag: `"${md5(data, 'hex')}"` }]])
    expect(fake.memory.objects.get(result.key)).toMatchObject({ size: 900 })
  })

  it('a file the server plans in several parts goes multipart, MD5 or not', async () => {
    const fake = setup()
    const data = testBytes(2500, 4)
    const result = await createUploader({ endpoint: ENDPOINT, resume: false }).upload(data, { name: 'three.bin' }).done
    expect(result.size).toBe(2500)
    expect(fake.stats.createBodies[0]?.md5).toBe(md5(data, 'base64')) // ≤ 8 MiB: asked for, not granted
    expect(fake.stats.signBatches.flat().sort()).toEqual([1, 2, 3])
  })

  it('a store without single PUT answers multipart: part 1 is signed as usual', async () => {
    const fake = setup({ singlePut: false })
    const result = await createUploader({ endpoint: ENDPOINT, resume: false }).upload(testBytes(500), { name: 'm.bin' }).done
    expect(result.size).toBe(500)
    expect(fake.stats.signBatches).toEqual([[1]])
  })

  it('a PUT refused with 412 (the object is already there: an earlier PUT of ours landed) goes to complete, which verifies', async () => {
    const fake = setup()
    fake.options.onPut = landThenLose(fake, () => s3Error(412, 'PreconditionFailed'))
    const data = testBytes(700, 5)
    const result = await createUploader({ endpoint: ENDPOINT, resume: false, retries: 0 }).upload(data, { name: 'once.bin' }).done
    expect(result).toMatchObject({ size: 700, result: { id: 42 } })
    expect([fake.stats.puts.get(1), fake.stats.signCalls, fake.stats.completes.length]).toEqual([1, 0, 1])
  })

  it('a PUT whose answer was lost: the re-sign answers upload_not_found (the object landed), so it completes', async () => {
    const fake = setup()
    fake.options.onPut = landThenLose(fake, () => HttpResponse.error() as unknown as Response)
    const result = await createUploader({ endpoint: ENDPOINT, resume: false, retryDelay: 1 }).upload(testBytes(600, 6), { name: 'lost.bin' }).done
    expect(result).toMatchObject({ size: 600 })
    expect(fake.stats.puts.get(1)).toBe(1)
    expect(fake.stats.completes).toHaveLength(1)
  })

  it('resume: the state says single; a new run lists (nothing yet), signs part 1 again and completes', async () => {
    const fake = setup()
    const store = recordingStore()
    fake.options.onPut = () => HttpResponse.error() as unknown as Response
    const data = testBytes(800, 7)
    await expect(createUploader({ endpoint: ENDPOINT, resume: store, retries: 0 }).upload(data, { name: 'r.bin' }).done).rejects.toMatchObject({
      code: 'retries_exhausted',
    })
    expect(store.saved.at(-1)).toMatchObject({ mode: 'single', partCount: 1 })
    fake.options.onPut = undefined
    const result = await createUploader({ endpoint: ENDPOINT, resume: store }).upload(data, { name: 'r.bin' }).done
    expect(result).toMatchObject({ size: 800, partsResumed: 0 })
    expect([fake.stats.lists, fake.stats.signCalls, fake.stats.createBodies.length]).toEqual([1, 1, 1])
  })

  it('resume after the PUT landed and the process died: the list shows part 1, no PUT, complete', async () => {
    const fake = setup()
    const store = recordingStore()
    fake.options.onPut = landThenLose(fake, () => HttpResponse.error() as unknown as Response)
    const data = testBytes(800, 8)
    await expect(createUploader({ endpoint: ENDPOINT, resume: store, retries: 0 }).upload(data, { name: 'landed.bin' }).done).rejects.toMatchObject({
      code: 'retries_exhausted',
    })
    const puts = fake.stats.puts.get(1)
    const result = await createUploader({ endpoint: ENDPOINT, resume: store }).upload(data, { name: 'landed.bin' }).done
    expect(result).toMatchObject({ size: 800, partsResumed: 1 })
    expect(fake.stats.puts.get(1)).toBe(puts)
    expect(fake.stats.completes).toHaveLength(1)
  })

  it('abort during the PUT sends DELETE, forgets the state and rejects aborted; nothing stays in storage', async () => {
    const fake = setup({ putDelayMs: 300 })
    const store = recordingStore()
    let sending!: () => void
    const uploading = new Promise<void>((r) => (sending = r))
    const upload = createUploader({ endpoint: ENDPOINT, resume: store, progressInterval: 0 }).upload(testBytes(900, 9), {
      name: 'gone.bin',
      onProgress: (p) => p.phase === 'uploading' && sending(),
    })
    await uploading
    await new Promise((r) => setTimeout(r, 100))
    upload.abort()
    await expect(upload.done).rejects.toMatchObject({ code: 'aborted' })
    expect(fake.stats.deletes).toBeGreaterThanOrEqual(1)
    const saved = store.saved.find((s) => s.pending !== true)
    expect(saved).toBeDefined()
    expect(await store.get('x')).toBeUndefined()
    // The PUT in flight still lands after the first DELETE (storage keeps serving a request that
    // arrived); the repeated DELETE 1.5 s later removes the object no complete was recorded for.
    await new Promise((r) => setTimeout(r, 1900))
    expect([...fake.memory.objects.keys()].filter((k) => k === saved?.key)).toEqual([])
  })
})
