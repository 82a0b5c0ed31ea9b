import { describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { TEST_MD5, testValet } from './testing/test-valet.js'

const size = 20 * MiB

async function uploaded(extra: Parameters<typeof testValet>[0] = {}, storageOptions: Parameters<typeof testValet>[1] = {}) {
  const t = testValet(extra, storageOptions)
  const up = (await t.create(size)).body as { uploadId: string; token: string; partSize: number; partCount: number; key: string }
  const parts = t.putAll(up, size)
  const complete = (headers: Record<string, string> = {}) => t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts }, headers)
  const sign = () => t.call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts: [{ partNumber: 1, size: up.partSize, md5: TEST_MD5 }] })
  const list = () => t.call('GET', `/uploads/${up.uploadId}/parts`, undefined, { 'valet-token': up.token })
  const abort = () => t.call('DELETE', `/uploads/${up.uploadId}`, undefined, { 'valet-token': up.token })
  return { ...t, up, parts, complete, sign, list, abort }
}

describe('a token is spent when its upload ends', () => {
  it('signs and lists nothing after complete, and a repeated complete commits nothing again', async () => {
    const { complete, sign, list, calls } = await uploaded()
    expect((await complete()).status).toBe(200)
    const commits = calls.filter((c) => c === 'complete').length
    for (const res of [await sign(), await list()]) expect([res.status, res.body.error.code]).toEqual([404, 'upload_not_found'])
    const again = await complete()
    expect(again.status).toBe(200)
    expect(calls.filter((c) => c === 'complete')).toHaveLength(commits)
  })

  it('signs, lists and completes nothing after abort', async () => {
    const { abort, sign, list, complete, objects } = await uploaded()
    expect((await abort()).status).toBe(204)
    for (const res of [await sign(), await list(), await complete()]) expect(res.body.error.code).toBe('upload_not_found')
    expect(objects.size).toBe(0)
  })

  it('never commits over an object already at the key (write-once)', async () => {
    const shared = { objectKey: () => 'shared/object.bin' }
    const t = testValet(shared)
    const first = (await t.create(size)).body
    const second = (await t.create(size)).body
    expect((await t.call('POST', `/uploads/${first.uploadId}/complete`, { token: first.token, parts: t.putAll(first, size) })).status).toBe(200)
    const res = await t.call('POST', `/uploads/${second.uploadId}/complete`, { token: second.token, parts: t.putAll(second, size) })
    expect([res.status, res.body.error.code]).toEqual([409, 'object_exists'])
    // And the second upload's token can no longer sign: its key is taken for good.
    const sign = await t.call('POST', `/uploads/${second.uploadId}/parts`, { token: second.token, parts: [{ partNumber: 1, size: second.partSize, md5: TEST_MD5 }] })
    expect(sign.body.error.code).toBe('upload_not_found')
  })
})

describe('onComplete runs at most once per upload', () => {
  const counting = () => {
    const runs: string[] = []
    return { runs, onComplete: ({ uploadId }: { uploadId: string }) => (runs.push(uploadId), { row: runs.length }) }
  }

  it('answers a repeated complete with the first answer, result included', async () => {
    const hook = counting()
    const { complete, up } = await uploaded({ onComplete: hook.onComplete })
    const answers = [await complete(), await complete(), await complete()]
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(answers.map((a) => a.body)).toEqual([answers[0]!.body, answers[0]!.body, answers[0]!.body])
    expect(answers[0]!.body.result).toEqual({ row: 1 })
    expect(hook.runs).toEqual([up.uploadId])
  })

  it('runs it once for concurrent completes, in one process and with records shared by replicas', async () => {
    for (const conditionalRecords of [true, false]) {
      const hook = counting()
      const { complete } = await uploaded({ onComplete: hook.onComplete }, { conditionalRecords })
      const answers = await Promise.all([complete(), complete(), complete(), complete()])
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200])
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1)
      expect(hook.runs).toHaveLength(1)
    }
  })

  it('lets a replica that finds the hook running wait for its answer', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let runs = 0
    const t = await uploaded({ onComplete: async () => (runs++, await gate, { done: true }) })
    // A second endpoint on the same storage: another replica, with its own in-process state.
    const { createValet } = await import('./create-valet.js')
    const replica = createValet({ storage: t.storage, secret: 'x'.repeat(32), authorize: () => ({ id: 'alice' }), onComplete: async () => (runs++, { done: 'replica' }) })
    const first = t.complete()
    await new Promise((r) => setTimeout(r, 50))
    const second = replica.fetch(
      new Request(`http://app.test/uploads/${t.up.uploadId}/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t.up.token, parts: t.parts }) }),
    )
    setTimeout(release, 300)
    const [a, b] = await Promise.all([first, second])
    expect(a.body.result).toEqual({ done: true })
    expect(((await b.json()) as { result: unknown }).result).toEqual({ done: true })
    expect(runs).toBe(1)
  })

  it('runs it again after it threw: the app refused, nothing was recorded', async () => {
    let calls = 0
    const { complete } = await uploaded({
      onComplete: () => {
        if (++calls === 1) throw new Error('database down')
        return { ok: true }
      },
    })
    expect((await complete()).status).toBe(500)
    const retry = await complete()
    expect([retry.status, retry.body.result]).toEqual([200, { ok: true }])
    expect(calls).toBe(2)
  })

  it('does not run it when the stored object differs from the plan', async () => {
    let runs = 0
    const t = await uploaded({ onComplete: () => void runs++ })
    const complete = t.storage.complete.bind(t.storage)
    t.storage.complete = async (input) => ({ ...(await complete(input)), type: 'text/html' })
    const res = await t.complete()
    expect(res.body.error.message).toMatch(/differs from the upload's plan.*type text\/html/)
    expect(runs).toBe(0)
  })
})

describe('requestId', () => {
  const requestId = 'rq_0123456789abcdefXYZ-'

  it('is spent once its upload completed: the same create again is refused, nothing is overwritten', async () => {
    const t = testValet()
    const up = (await t.create(size, { requestId })).body
    expect((await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: up.token, parts: t.putAll(up, size) })).status).toBe(200)
    const again = await t.create(size, { requestId })
    expect([again.status, again.body.error.code]).toEqual([409, 'object_exists'])
    expect(t.calls.filter((c) => c === 'create')).toHaveLength(1)
  })
})
