import { HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { createMemoryResumeStore, createUploader, type ManyOutcome, type ManyProgress } from './index.node.js'
import { ENDPOINT, testBytes } from './testing/fake-valet.js'
import { useFakeValet } from './testing/msw-server.js'

const { setup } = useFakeValet({ partSize: 1000 })
const s3Error = (status: number, code: string) => new HttpResponse(`<Error><Code>${code}</Code></Error>`, { status })
const valetError = (status: number, code: string) => HttpResponse.json({ error: { code, message: code } }, { status })
const small = (n: number) => Array.from({ length: n }, (_, i) => ({ source: testBytes(100 + (i % 50), i + 1), name: `f${i}.bin` }))
const keyCalls = (fake: ReturnType<typeof setup>) => [...fake.stats.calls.values()].reduce((a, b) => a + b, 0)
const codes = (outcomes: ManyOutcome[]) => outcomes.map((o) => (o.ok ? 'ok' : o.error.code))

describe('uploadMany', () => {
  it('mixed items: good files complete, refused ones report typed errors, one failure stops nothing', async () => {
    const fake = setup({ server: { allowedTypes: ['application/octet-stream'], maxFileSize: 5000 } })
    const bad = testBytes(400, 99)
    fake.options.onPut = ({ body }) => (body.byteLength === 400 && body[0] === bad[0] ? s3Error(403, 'AccessDenied') : undefined)
    const done: ManyOutcome[] = []
    const started: string[] = []
    const batch = createUploader({ endpoint: ENDPOINT, resume: false, retries: 0 }).uploadMany(
      [
        { source: testBytes(300, 1), name: 'a.bin' },
        { source: testBytes(300, 2), name: 'page.html', type: 'text/html' },
        { source: testBytes(6000, 3), name: 'huge.bin' },
        { source: bad, name: 'refused-by-storage.bin' },
        { source: testBytes(2500, 4), name: 'multipart.bin' },
        { source: testBytes(300, 5), name: 'b.bin' },
      ],
      { onFileStart: (f) => started.push(f.name), onFileDone: (o) => done.push(o) },
    )
    const outcomes = await batch.done
    expect(codes(outcomes)).toEqual(['ok', 'type_not_allowed', 'file_too_large', 'storage_rejected', 'ok', 'ok'])
    expect(outcomes.map((o) => [o.index, o.name])).toEqual([
      [0, 'a.bin'], [1, 'page.html'], [2, 'huge.bin'], [3, 'refused-by-storage.bin'], [4, 'multipart.bin'], [5, 'b.bin'],
    ])
    const refused = outcomes[1]
    expect(refused?.ok === false && refused.error.context.status).toBe(415)
    expect(done).toHaveLength(6)
    expect(started.sort()).toEqual(outcomes.map((o) => o.name).sort()) // once each, before its onFileDone
    expect(outcomes[4]?.ok === true && outcomes[4].result.size).toBe(2500)
    // One batch create for all six; the good files' completes coalesce.
    expect(fake.stats.createBatches).toEqual([6])
    expect(fake.stats.calls.get('create') ?? 0).toBe(0)
    expect(fake.stats.completes).toHaveLength(3) // batched, or alone on its own route when it came alone
  })

  it('multipart files created ahead past maxOpenUploads wait for their own uploads to end instead of failing', async () => {
    // No single PUT (as on Azure by default): every create opens an upload the cap counts.
    const fake = setup({ singlePut: false, server: { maxOpenUploads: 3 } })
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 2 }).uploadMany(small(12)).done
    expect(codes(outcomes)).toEqual(Array(12).fill('ok'))
    expect(fake.memory.uploads.size).toBe(12)
  })

  it('a refusal for maxOpenUploads that arrives after our own upload ended is asked again, not failed', async () => {
    // The server counts f0 open and refuses f1; f0 completes before that answer reaches the
    // client, so it finds none of its own uploads open. The refusal is stale: create again.
    const fake = setup({ singlePut: false, server: { maxOpenUploads: 1 } })
    let firstDone!: () => void
    const f0Done = new Promise<void>((resolve) => (firstDone = resolve))
    let f1Sent!: () => void
    const f0Created = new Promise<void>((resolve) => (f1Sent = resolve))
    let batches = 0 // create calls
    fake.options.onEndpoint = async (op, _request, forward) => {
      if (op !== 'create' && op !== 'create-batch') return undefined // one file alone goes on its own route
      if (++batches === 1) {
        const created = await forward()
        f1Sent()
        return created
      }
      const answer = await forward()
      if (batches === 2) await f0Done
      return answer
    }
    async function* files() {
      yield { source: testBytes(120, 1), name: 'f0.bin' }
      await f0Created // f1 goes in a batch of its own
      yield { source: testBytes(130, 2), name: 'f1.bin' }
    }
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 1 }).uploadMany(files(), {
      onFileDone: (o) => o.index === 0 && firstDone(),
    }).done
    expect(codes(outcomes)).toEqual(['ok', 'ok'])
    expect(batches).toBe(3) // f1 asked twice: refused while f0 was open, then created
  })

  it('too_many_uploads with none of its own open still fails the file (the cap is someone else’s)', async () => {
    setup({ singlePut: false, server: { maxOpenUploads: 1 } })
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false })
    const blocker = await fetch(`${ENDPOINT}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'alice' }, body: JSON.stringify({ name: 'x', size: 10, type: '' }) })
    expect(blocker.status).toBe(201)
    expect(codes(await uploader.uploadMany(small(2)).done)).toEqual(['too_many_uploads', 'too_many_uploads'])
  })

  it('200 small files: a few key calls per hundred files, one PUT each, no sign calls', async () => {
    const fake = setup()
    let last: ManyProgress | undefined
    const files = small(200)
    const batch = createUploader({ endpoint: ENDPOINT, resume: createMemoryResumeStore(), concurrency: 8 }).uploadMany(files, {
      onProgress: (p) => (last = p),
    })
    const outcomes = await batch.done
    expect(outcomes.filter((o) => o.ok)).toHaveLength(200)
    const calls = keyCalls(fake)
    expect(fake.stats.signCalls).toBe(0)
    expect([...fake.stats.puts.values()].reduce((a, b) => a + b, 0)).toBe(200)
    expect(fake.stats.createBatches.reduce((a, b) => a + b, 0)).toBe(200)
    expect(fake.stats.createBatches.length).toBeLessThanOrEqual(4)
    // Measured: ~0.1 key calls per file (creates ahead in batches of up to 100, completes coalesced).
    expect(calls / 200).toBeLessThan(0.25)
    const bytes = files.reduce((a, f) => a + f.source.byteLength, 0)
    expect(last).toMatchObject({ filesDone: 200, filesFailed: 0, filesTotal: 200, bytesSent: bytes, bytesTotal: bytes })
    console.log(`uploadMany: 200 files, ${calls} key calls (${(calls / 200).toFixed(3)} per file): ${JSON.stringify(Object.fromEntries(fake.stats.calls))}, complete batches ${JSON.stringify(fake.stats.completeBatches)}`)
  })

  it('short single-PUT keys: files created ahead whose key would be stale at their turn are signed again, no PUT on an expired key', async () => {
    const fake = setup({ keyTtlMs: 1500, putDelayMs: 40 })
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 2 }).uploadMany(small(60)).done
    expect(codes(outcomes)).toEqual(Array(60).fill('ok'))
    expect(fake.stats.expiredPuts).toBe(0)
    // Some files used the key their create carried; those that waited past its margin got a new one.
    expect(fake.stats.signCalls).toBeLessThan(60)
    expect(fake.stats.signCalls).toBeGreaterThan(0)
  })

  it('an older server without batch routes (404 not_found): every file goes through its own routes', async () => {
    const fake = setup()
    fake.options.onEndpoint = (op) => (op === 'create-batch' || op === 'complete-batch' ? valetError(404, 'not_found') : undefined)
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false }).uploadMany(small(12)).done
    expect(codes(outcomes)).toEqual(Array(12).fill('ok'))
    expect([fake.stats.calls.get('create-batch'), fake.stats.calls.get('create'), fake.stats.calls.get('complete')]).toEqual([1, 12, 12])
    expect(fake.stats.calls.get('complete-batch') ?? 0).toBe(0)
  })

  it('retries a batch item that failed for a transient reason (502 storage_error), alone, then completes it', async () => {
    const fake = setup()
    const firstIds: string[] = []
    let first = true
    fake.options.onEndpoint = async (op, request) => {
      if (op !== 'create-batch' || !first) return undefined
      first = false
      const { uploads } = (await request.clone().json()) as { uploads: { requestId: string }[] }
      firstIds.push(...uploads.map((u) => u.requestId))
      const failed = { status: 502, body: { error: { code: 'storage_error', message: 'storage hiccup' } } }
      return HttpResponse.json({ uploads: uploads.map(() => failed), serverTime: new Date().toISOString() })
    }
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, retryDelay: 1 }).uploadMany(small(5)).done
    expect(codes(outcomes)).toEqual(Array(5).fill('ok'))
    // Each item retried on its own backoff: in the next batches, each sent once more.
    expect((fake.stats.calls.get('create-batch') ?? 0) + (fake.stats.calls.get('create') ?? 0)).toBeGreaterThanOrEqual(2)
    expect(fake.stats.createBodies.map((b) => b.requestId).sort()).toEqual(firstIds.sort()) // the same creates again
  })

  it('does not retry an item refused for good (too_many_uploads): that file fails, the rest go on', async () => {
    const fake = setup()
    fake.options.onEndpoint = async (op, request) => {
      if (op !== 'create-batch') return undefined
      const { uploads } = (await request.clone().json()) as { uploads: { name: string }[] }
      if (!uploads.some((u) => u.name === 'f1.bin')) return undefined
      // Answer f1 as refused and send the others again on their own (the test's stand-in for the server).
      return HttpResponse.json({
        uploads: uploads.map((u) => (u.name === 'f1.bin' ? { status: 429, body: { error: { code: 'too_many_uploads', message: 'cap' } } } : { status: 503, body: { error: { code: 'storage_error', message: 'again' } } })),
        serverTime: new Date().toISOString(),
      })
    }
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, retryDelay: 1 }).uploadMany(small(3)).done
    expect(codes(outcomes)).toEqual(['ok', 'too_many_uploads', 'ok'])
  })

  it('resume: files whose batch complete never answered are completed by the next run without new creates', async () => {
    const fake = setup()
    const store = createMemoryResumeStore()
    fake.options.onEndpoint = (op) => (op === 'complete-batch' || op === 'complete' ? (HttpResponse.error() as unknown as Response) : undefined)
    const files = [...small(4), { source: testBytes(2500, 77), name: 'multi.bin' }]
    const first = await createUploader({ endpoint: ENDPOINT, resume: store, retries: 0, retryWindow: 0 }).uploadMany(files).done
    expect(codes(first)).toEqual(Array(5).fill('retries_exhausted'))
    fake.options.onEndpoint = undefined
    const creates = [fake.stats.createBodies.length, fake.stats.creates]
    const puts = [...fake.stats.puts.values()].reduce((a, b) => a + b, 0)
    const second = await createUploader({ endpoint: ENDPOINT, resume: store }).uploadMany(files).done
    expect(codes(second)).toEqual(Array(5).fill('ok'))
    expect([fake.stats.createBodies.length, fake.stats.creates]).toEqual(creates)
    expect([...fake.stats.puts.values()].reduce((a, b) => a + b, 0)).toBe(puts)
  })

  it('resume: a batch create whose answer was lost is sent again as the same creates (pending creates saved first)', async () => {
    const fake = setup()
    const store = createMemoryResumeStore()
    const lost: string[] = []
    fake.options.onEndpoint = async (op, request) => {
      if (op !== 'create-batch') return undefined
      lost.push(...((await request.clone().json()) as { uploads: { requestId: string }[] }).uploads.map((u) => u.requestId))
      return HttpResponse.error() as unknown as Response
    }
    const files = small(5)
    const first = await createUploader({ endpoint: ENDPOINT, resume: store, retries: 0, retryWindow: 0 }).uploadMany(files).done
    expect(first.every((o) => !o.ok)).toBe(true)
    expect(lost).toHaveLength(5)
    fake.options.onEndpoint = undefined
    const second = await createUploader({ endpoint: ENDPOINT, resume: store }).uploadMany(files).done
    expect(codes(second)).toEqual(Array(5).fill('ok'))
    expect(fake.stats.createBodies.map((b) => b.requestId).sort()).toEqual([...lost].sort())
  })

  it('takes an AsyncIterable lazily: the total is unknown until it ends, then every file is done', async () => {
    setup()
    const totals: (number | undefined)[] = []
    async function* produce() {
      for (const item of small(7)) {
        await new Promise((r) => setTimeout(r, 5))
        yield item
      }
    }
    const outcomes = await createUploader({ endpoint: ENDPOINT, resume: false, progressInterval: 0 }).uploadMany(produce(), {
      onProgress: (p) => totals.push(p.filesTotal),
    }).done
    expect(codes(outcomes)).toEqual(Array(7).fill('ok'))
    expect(totals[0]).toBeUndefined()
    expect(totals.at(-1)).toBe(7)
  })

  it('abort: files in progress end aborted and are deleted, no more start; pause holds, resume finishes', async () => {
    const fake = setup({ putDelayMs: 60 })
    const uploader = createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 2 })
    const paused = uploader.uploadMany(small(6))
    await new Promise((r) => setTimeout(r, 80))
    paused.pause()
    expect(paused.status).toBe('paused')
    await new Promise((r) => setTimeout(r, 150))
    const during = fake.stats.puts.size
    await new Promise((r) => setTimeout(r, 200))
    expect(fake.stats.puts.size).toBe(during)
    paused.resume()
    expect(codes(await paused.done)).toEqual(Array(6).fill('ok'))

    const completesBefore = fake.stats.completes.length
    const aborted = uploader.uploadMany(small(40).map((f) => ({ ...f, name: `x-${f.name}` })))
    await new Promise((r) => setTimeout(r, 150))
    aborted.abort()
    const outcomes = await aborted.done
    // Every file reached (all 40 were created ahead) ends; those not complete end aborted.
    expect(outcomes.filter((o) => o.ok).length).toBeLessThan(40)
    expect(outcomes.every((o) => o.ok || o.error.code === 'aborted')).toBe(true)
    await new Promise((r) => setTimeout(r, 1800)) // PUTs in flight land; the second DELETE removes them
    // What stays is what completed, and at most the files whose complete was already on its way
    // when abort came (the server committed them: objects are never removed once complete).
    const left = [...fake.memory.objects.keys()].filter((k) => k.includes('/x-'))
    const ok = outcomes.filter((o) => o.ok).length
    expect(left.length).toBeGreaterThanOrEqual(ok)
    expect(left.length).toBeLessThanOrEqual(fake.stats.completes.length - completesBefore)
  })
})
