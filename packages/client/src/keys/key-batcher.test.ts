import { describe, expect, it } from 'vitest'
import { ValetError, type CompleteBatchItem, type CompleteUploadResponse } from '@valet/protocol'
import { KeyBatcher } from './key-batcher.js'
import type { BatchItemResult, KeyEndpoint } from './key-endpoint.js'

const signal = new AbortController().signal
const done = (item: CompleteBatchItem): CompleteUploadResponse => ({ key: item.uploadId, size: 1, etag: 'e', location: 'l' })

function batcher(batchAnswer?: (items: CompleteBatchItem[]) => BatchItemResult<CompleteUploadResponse>[] | Promise<never>) {
  const calls: string[] = []
  const endpoint = {
    completeBatch: async (items: CompleteBatchItem[]) => {
      calls.push(`batch ${items.length}`)
      return batchAnswer ? batchAnswer(items) : items.map((item) => ({ ok: true as const, value: done(item) }))
    },
    complete: async (uploadId: string) => {
      calls.push(`single ${uploadId}`)
      return { key: uploadId, size: 1, etag: 'e', location: 'l' }
    },
  } as unknown as KeyEndpoint
  const options = { retries: 2, retryWindow: 0, backoff: { base: 1, cap: 1 }, clock: { now: () => Date.now() }, delay: 20, createDelay: 200, completesIdle: () => false, createsIdle: () => false }
  return { api: new KeyBatcher(endpoint, options, signal), calls }
}
const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ partNumber: i + 1, etag: `"${'0'.repeat(32)}"` }))

describe('KeyBatcher', () => {
  it('coalesces completes arriving within the delay into one batch call', async () => {
    const { api, calls } = batcher()
    const results = await Promise.all(['a', 'b', 'c'].map((id) => api.complete(id, 't', parts(1), signal)))
    expect(results.map((r) => r.key)).toEqual(['a', 'b', 'c'])
    expect(calls).toEqual(['batch 3'])
  })

  it('keeps a batch body well under the 1 MiB limit: huge part lists go in calls of their own', async () => {
    const { api, calls } = batcher()
    await Promise.all(['a', 'b', 'c'].map((id) => api.complete(id, 't', parts(6000), signal)))
    expect(calls.sort()).toEqual(['single a', 'single b', 'single c'])
  })

  it('a server without batch routes (405): the items go to their own routes, and so does everything after', async () => {
    const { api, calls } = batcher(() => Promise.reject(new ValetError('method_not_allowed', 'no', { context: { status: 405, allow: ['DELETE'] } } as never)))
    await Promise.all(['a', 'b'].map((id) => api.complete(id, 't', parts(1), signal)))
    await Promise.all(['c', 'd'].map((id) => api.complete(id, 't', parts(1), signal)))
    expect(calls).toEqual(['batch 2', 'single a', 'single b', 'single c', 'single d'])
  })

  it('retries a transiently failed item alone; an item refused for good fails at once', async () => {
    let round = 0
    const { api, calls } = batcher((items) => {
      round++
      return items.map((item) =>
        item.uploadId === 'flaky' && round === 1
          ? { ok: false as const, status: 503, error: new ValetError('storage_error', 'busy', { context: { status: 503 } }) }
          : item.uploadId === 'bad'
            ? { ok: false as const, status: 409, error: new ValetError('part_mismatch', 'no', { context: { status: 409 } }) }
            : { ok: true as const, value: done(item) },
      )
    })
    const [flaky, bad, fine] = await Promise.allSettled(['flaky', 'bad', 'fine'].map((id) => api.complete(id, 't', parts(1), signal)))
    expect(flaky).toMatchObject({ status: 'fulfilled', value: { key: 'flaky' } })
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'part_mismatch' } })
    expect(fine).toMatchObject({ status: 'fulfilled' })
    expect(calls).toEqual(['batch 3', 'single flaky'])
  })
})
