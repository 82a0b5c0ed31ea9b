import { describe, expect, it } from 'vitest'
import { createMemoryResumeStore, createUploader, type ResumeStore, type UploadPhase } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet({ partSize: 1000, putDelayMs: 40 })
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
const putCount = (fake: ReturnType<typeof setup>) => [...fake.stats.puts.values()].reduce((a, b) => a + b, 0)
const pending = Symbol('pending')
const state = (p: Promise<unknown>) => Promise.race([p.then(() => 'resolved', () => 'rejected'), wait(20).then(() => pending)])

/** Resolves once `n` parts are done. */
function partsDone(n: number) {
  let resolve!: () => void
  const reached = new Promise<void>((r) => (resolve = r))
  return { reached, onProgress: (p: { partsDone: number }) => p.partsDone >= n && resolve() }
}

describe('pause, resume, abort', () => {
  it('pause stops new parts and aborts in-flight ones; done stays pending; resume finishes', async () => {
    const fake = setup()
    const phases: UploadPhase[] = []
    const progress = partsDone(2)
    const upload = createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 2, progressInterval: 0 }).upload(testBytes(12_000), {
      name: 'p.bin',
      onProgress: (p) => {
        if (phases.at(-1) !== p.phase) phases.push(p.phase)
        progress.onProgress(p)
      },
    })
    await progress.reached
    upload.pause()
    expect(upload.status).toBe('paused')
    await wait(60) // let aborted requests drain
    const during = putCount(fake)
    await wait(150)
    expect(putCount(fake)).toBe(during)
    expect(await state(upload.done)).toBe(pending)
    upload.resume()
    const result = await upload.done
    expect(result.size).toBe(12_000)
    expect(upload.status).toBe('complete')
    expect(phases).toEqual(['preparing', 'uploading', 'paused', 'uploading', 'completing', 'complete'])
    expect(fake.uploads.get('up-1')?.parts.size).toBe(12)
  })

  it('pausing before the upload starts sends no part until resume()', async () => {
    const fake = setup()
    const upload = createUploader({ endpoint: ENDPOINT, resume: false }).upload(testBytes(3000), { name: 'p.bin' })
    upload.pause()
    await wait(100)
    expect(putCount(fake)).toBe(0)
    upload.resume()
    await expect(upload.done).resolves.toMatchObject({ size: 3000 })
  })

  it('abort stops everything, DELETEs the upload, forgets the resume state, and rejects with aborted', async () => {
    const fake = setup()
    const store = createMemoryResumeStore()
    const removed: string[] = []
    const spy: ResumeStore = { ...store, remove: async (fp) => (removed.push(fp), store.remove(fp)) }
    const progress = partsDone(1)
    const upload = createUploader({ endpoint: ENDPOINT, resume: spy }).upload(testBytes(10_000), { name: 'a.bin', onProgress: progress.onProgress })
    await progress.reached
    upload.abort()
    await expect(upload.done).rejects.toMatchObject({ name: 'ValetError', code: 'aborted' })
    expect(upload.status).toBe('aborted')
    expect(fake.stats.deletes).toBe(1)
    expect(fake.uploads.get('up-1')?.state).toBe('aborted')
    expect(removed).toHaveLength(1)
    expect(await store.get(removed[0] as string)).toBeUndefined()
    const after = putCount(fake)
    await wait(100)
    expect(putCount(fake)).toBe(after)
    expect(fake.stats.completes).toHaveLength(0)
  })

  it('a user signal aborting is abort(), also while paused', async () => {
    const fake = setup()
    const controller = new AbortController()
    const progress = partsDone(1)
    const upload = createUploader({ endpoint: ENDPOINT, resume: false }).upload(testBytes(10_000), {
      name: 'a.bin', signal: controller.signal, onProgress: progress.onProgress,
    })
    await progress.reached
    upload.pause()
    controller.abort(new Error('user left'))
    await expect(upload.done).rejects.toMatchObject({ code: 'aborted', cause: { message: 'user left' } })
    expect(fake.stats.deletes).toBe(1)
  })

  it('an already aborted signal rejects at once without traffic', async () => {
    const fake = setup()
    const upload = createUploader({ endpoint: ENDPOINT, resume: false }).upload(testBytes(10), { name: 'a', signal: AbortSignal.abort() })
    await expect(upload.done).rejects.toMatchObject({ code: 'aborted' })
    expect(fake.stats.creates).toBe(0)
  })

  it('pause and abort after completion change nothing', async () => {
    setup()
    const upload = createUploader({ endpoint: ENDPOINT, resume: false }).upload(testBytes(10), { name: 'a' })
    await upload.done
    upload.pause()
    upload.abort()
    expect(upload.status).toBe('complete')
  })
})
