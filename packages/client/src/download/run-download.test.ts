import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isValetError, type ValetError } from '@valet/protocol'
import { UploadControl } from '../engine/upload-control.js'
import { fakeDownloadWorld, md5Stream, md5b64, multipartObject, type FakeObject } from '../testing/fake-download.js'
import type { DownloadState, DownloadStateStore } from './download-ports.js'
import { normalizeDownloaderOptions, type DownloaderOptions } from './download-options.js'
import type { DownloadProgress } from './download-progress.js'
import { runDownload } from './run-download.js'

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  return out
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function memoryStore() {
  const map = new Map<string, DownloadState>()
  const store: DownloadStateStore = {
    get: async (fp) => map.get(fp),
    set: async (fp, s) => void map.set(fp, structuredClone(s)),
    remove: async (fp) => void map.delete(fp),
  }
  return { map, store }
}

function setup(extra: Partial<DownloaderOptions> = {}, world = fakeDownloadWorld()) {
  const { map, store } = memoryStore()
  const options = normalizeDownloaderOptions(
    { endpoint: 'http://127.0.0.1:3000/api/valet', resume: store, retries: 2, retryDelay: 1, maxRetryDelay: 5, concurrency: 3, progressInterval: 0, ...extra },
    { absoluteEndpoint: true, stateStore: () => undefined },
  )
  const deps = { options, api: world.api, fetcher: world.fetcher, md5: md5Stream, clock: { now: () => Date.now() } }
  const run = (key: string, dest = world.destination(), control = new UploadControl(), onProgress?: (p: DownloadProgress) => void) => ({
    control,
    dest,
    done: runDownload(deps, control, key, dest, { signal: undefined, onProgress, concurrency: options.concurrency }),
  })
  return { world, states: map, run }
}

async function failure(p: Promise<unknown>): Promise<ValetError> {
  const e = await p.then(() => undefined, (x: unknown) => x)
  if (!isValetError(e)) throw new Error(`expected a ValetError, got ${String(e)}`)
  return e
}

describe('runDownload', () => {
  it('fetches a multipart object part by part, checks every part, and removes its state', async () => {
    const { world, states, run } = setup()
    const data = bytes(10_000)
    world.objects.set('a', multipartObject(data, 3000))
    const progress: DownloadProgress[] = []
    const dl = run('a', undefined, undefined, (p) => progress.push(p))
    const got = await dl.done
    expect(got).toMatchObject({ key: 'a', size: 10_000, verified: 'parts', path: 'out.bin' })
    expect(sha(dl.dest.result as Uint8Array)).toBe(sha(data))
    expect(world.gets.map((g) => g.range.start).sort((x, y) => x - y)).toEqual([0, 3000, 6000, 9000])
    expect(progress.at(-1)).toMatchObject({ phase: 'complete', bytesReceived: 10_000, bytesVerified: 10_000, rangesDone: 4, rangesTotal: 4 })
    expect(states.size).toBe(0)
  })

  it('a flipped byte fails that part\'s MD5 and only that part is fetched again', async () => {
    const { world, run } = setup()
    const data = bytes(9000, 2)
    world.objects.set('a', multipartObject(data, 3000))
    world.setFault((g) => (g.range.start === 3000 && g.attempt === 1 ? { kind: 'flip' } : undefined))
    const dl = run('a')
    await dl.done
    expect(sha(dl.dest.result as Uint8Array)).toBe(sha(data))
    expect(world.gets.filter((g) => g.range.start === 3000)).toHaveLength(2)
    expect(world.gets).toHaveLength(4)
  })

  it('truncated bodies, resets, 500s and expired keys are retried with fresh keys', async () => {
    const { world, run } = setup()
    const data = bytes(12_000, 3)
    world.objects.set('a', multipartObject(data, 3000))
    const faults = [{ kind: 'truncate' }, { kind: 'reset' }, { kind: 'status', status: 500 }, { kind: 'status', status: 403, body: 'Request has expired' }] as const
    world.setFault((g) => (g.attempt === 1 ? faults[g.range.start / 3000] : undefined))
    const signsBefore = world.signCalls
    const dl = run('a')
    await dl.done
    expect(sha(dl.dest.result as Uint8Array)).toBe(sha(data))
    expect(world.gets).toHaveLength(8)
    expect(world.signCalls - signsBefore).toBeGreaterThan(1)
  })

  it('honours Retry-After on 503', async () => {
    const { world, run } = setup({ maxRetryDelay: 5 })
    world.objects.set('a', multipartObject(bytes(3000), 3000))
    world.setFault((g) => (g.attempt === 1 ? { kind: 'status', status: 503, headers: { 'retry-after': '1' } } : undefined))
    const t = Date.now()
    await run('a').done
    expect(Date.now() - t).toBeGreaterThanOrEqual(950)
  })

  it('a part that keeps failing fails the download (typed); a later run fetches only what is missing', async () => {
    const { world, states, run } = setup()
    const data = bytes(12_000, 4)
    world.objects.set('a', multipartObject(data, 3000))
    world.setFault((g) => (g.range.start === 6000 ? { kind: 'flip' } : undefined))
    const first = await failure(run('a').done)
    expect(first.code).toBe('retries_exhausted')
    expect((first.cause as ValetError).code).toBe('checksum_mismatch')
    expect([...states.values()][0]?.done.sort()).toEqual([0, 1, 3])
    world.setFault(() => undefined)
    world.gets.length = 0
    const again = run('a')
    await again.done
    expect(world.gets.map((g) => g.range.start)).toEqual([6000])
    expect(sha(again.dest.result as Uint8Array)).toBe(sha(data))
  })

  it('ranges an earlier run left are checked again: a damaged one is fetched again', async () => {
    const { world, run } = setup()
    const data = bytes(9000, 5)
    world.objects.set('a', multipartObject(data, 3000))
    world.setFault((g) => (g.range.start === 6000 ? { kind: 'status', status: 400, body: 'nope' } : undefined))
    expect((await failure(run('a').done)).code).toBe('storage_rejected')
    const staged = [...world.staging.values()][0] as Uint8Array
    staged[100] = (staged[100] as number) ^ 1 // the disk lost a bit between runs
    world.setFault(() => undefined)
    world.gets.length = 0
    const again = run('a')
    await again.done
    expect(world.gets.map((g) => g.range.start).sort((x, y) => x - y)).toEqual([0, 6000])
    expect(sha(again.dest.result as Uint8Array)).toBe(sha(data))
  })

  it('ranges with no MD5 that staging no longer holds are fetched again', async () => {
    const { world, run } = setup({ rangeSize: 64 * 1024, concurrency: 1 })
    const data = bytes(200_000, 16)
    world.objects.set('n', { bytes: data, etag: '"y"', integrity: { kind: 'none' } })
    world.setFault((g) => (g.range.start === 131_072 ? { kind: 'status', status: 400, body: 'nope' } : undefined))
    expect((await failure(run('n').done)).code).toBe('storage_rejected')
    world.lost.add(0)
    world.setFault(() => undefined)
    world.gets.length = 0
    await run('n').done
    expect(world.gets.map((g) => g.range.start).sort((x, y) => x - y)).toEqual([0, 131_072, 196_608])
  })

  it('an object replaced mid-way restarts from nothing and ends with the new bytes only', async () => {
    const { world, run } = setup({ concurrency: 1 })
    const old = bytes(9000, 6)
    const next = bytes(9000, 7)
    world.objects.set('a', multipartObject(old, 3000))
    const replacement: FakeObject = multipartObject(next, 3000)
    world.setFault((g) => (g.range.start === 3000 && g.attempt === 1 ? { kind: 'replace', with: replacement } : undefined))
    const dl = run('a')
    const got = await dl.done
    expect(got.etag).toBe(replacement.etag)
    expect(sha(dl.dest.result as Uint8Array)).toBe(sha(next))
    expect(world.opens).toBe(2)
  })

  it('an object that keeps changing fails with object_changed', async () => {
    const { world, run } = setup()
    let v = 0
    world.objects.set('a', multipartObject(bytes(6000, 8), 3000))
    world.setFault(() => ({ kind: 'replace', with: multipartObject(bytes(6000, 100 + ++v), 3000) }))
    const e = await failure(run('a').done)
    expect(e.code).toBe('object_changed')
    expect(world.staging.size).toBe(0)
  })

  it('an object without part MD5s: equal ranges, whole-object MD5 read back, or size and ETag only', async () => {
    const { world, run } = setup({ rangeSize: 64 * 1024 })
    const data = bytes(200_000, 9)
    world.objects.set('m', { bytes: data, etag: '"x"', integrity: { kind: 'md5', md5: md5b64(data) } })
    world.objects.set('n', { bytes: data, etag: '"y"', integrity: { kind: 'none' } })
    const m = run('m', world.destination('m'))
    expect(await m.done).toMatchObject({ verified: 'md5' })
    expect(sha(m.dest.result as Uint8Array)).toBe(sha(data))
    const n = run('n', world.destination('n'))
    expect(await n.done).toMatchObject({ verified: 'size-etag' })
    expect(world.gets.filter((g) => g.key === 'n')).toHaveLength(4)
  })

  it('a whole-object MD5 that does not match restarts, then fails with object_changed', async () => {
    const { world, run } = setup({ rangeSize: 64 * 1024 })
    const data = bytes(150_000, 10)
    world.objects.set('m', { bytes: data, etag: '"x"', integrity: { kind: 'md5', md5: md5b64(bytes(10)) } })
    expect((await failure(run('m').done)).code).toBe('object_changed')
    expect(world.opens).toBe(4)
  })

  it('part MD5s that do not make the S3 multipart ETag are refused before any GET', async () => {
    const { world, run } = setup()
    const o = multipartObject(bytes(6000, 11), 3000)
    world.objects.set('a', { ...o, etag: '"0123456789abcdef0123456789abcdef-2"' })
    expect((await failure(run('a').done)).code).toBe('checksum_mismatch')
    expect(world.gets).toHaveLength(0)
  })

  it('an expired download token is renewed by opening again', async () => {
    const { world, run } = setup({ concurrency: 1 })
    const data = bytes(9000, 12)
    world.objects.set('a', multipartObject(data, 3000))
    const realOpen = world.api.openDownload
    let first = true
    world.api.openDownload = async (key: string) => {
      const o = await realOpen(key)
      if (first) world.expireToken(o.token)
      first = false
      return o
    }
    const dl = run('a')
    await dl.done
    expect(sha(dl.dest.result as Uint8Array)).toBe(sha(data))
    expect(world.opens).toBe(2)
  })

  it('pause stops the GETs and keeps what is done; resume finishes; abort discards staging and state', async () => {
    const { world, states, run } = setup({ concurrency: 1 }, fakeDownloadWorld({ chunk: 300 }))
    world.objects.set('a', multipartObject(bytes(30_000, 13), 3000))
    const progress: DownloadProgress[] = []
    const dl = run('a', undefined, undefined, (p) => progress.push(p))
    while (world.gets.length < 3 || (progress.at(-1)?.bytesReceived ?? 0) <= (progress.at(-1)?.bytesVerified ?? 0)) await new Promise((r) => setTimeout(r, 1))
    dl.control.pause()
    await new Promise((r) => setTimeout(r, 20))
    // What the GET cut by the pause had received no longer counts.
    expect(progress.at(-1)).toMatchObject({ phase: 'paused', bytesReceived: progress.at(-1)?.bytesVerified })
    const seen = world.gets.length
    await new Promise((r) => setTimeout(r, 20))
    expect(world.gets.length).toBe(seen)
    dl.control.resume()
    await dl.done
    expect(world.gets.length).toBeLessThanOrEqual(11) // the part in flight at pause, at most, went twice
    const base = world.gets.length
    const other = run('a', world.destination('b'))
    while (world.gets.length < base + 3) await new Promise((r) => setTimeout(r, 1))
    expect(states.size).toBe(1)
    other.control.abort()
    expect((await failure(other.done)).code).toBe('aborted')
    expect(world.staging.size).toBe(0)
    expect(states.size).toBe(0)
  })

  it('a second download of the same key to the same destination at once is refused', async () => {
    const { world, run } = setup({}, fakeDownloadWorld({ chunk: 100 }))
    world.objects.set('a', multipartObject(bytes(60_000, 15), 3000))
    const dest = world.destination('same')
    const first = run('a', dest)
    while (world.gets.length === 0) await new Promise((r) => setTimeout(r, 1))
    first.control.pause() // a paused download still owns its staging
    const e = await failure(run('a', dest).done)
    expect(e.code).toBe('invalid_option')
    expect(e.message).toMatch(/already being downloaded/)
    first.control.resume()
    await first.done
    await run('a', dest).done
  })

  it('a 206 without a readable Content-Range fails at once, saying the CORS rule must expose it', async () => {
    const { world, run } = setup()
    world.objects.set('a', multipartObject(bytes(6000, 17), 3000))
    const inner = world.fetcher.get
    world.fetcher.get = async (req) => {
      const res = await inner(req)
      const { 'content-range': _hidden, ...headers } = res.headers
      return { ...res, headers }
    }
    const e = await failure(run('a').done)
    expect(e.code).toBe('storage_rejected')
    expect(e.message).toMatch(/expose Content-Range/)
    expect(world.gets.length).toBeLessThanOrEqual(3)
  })

  it('staging that cannot be written fails with destination_failed, its cause kept', async () => {
    const { world, run } = setup()
    world.objects.set('a', multipartObject(bytes(6000, 18), 3000))
    const dest = world.destination()
    const open = dest.open.bind(dest)
    dest.open = async (plan, signal) => {
      const sink = await open(plan, signal)
      return { ...sink, writer: async () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) }
    }
    const e = await failure(run('a', dest).done)
    expect(e.code).toBe('destination_failed')
    expect(e.message).toMatch(/ENOSPC/)
    expect((e.cause as { code?: string }).code).toBe('ENOSPC')
  })

  it('an empty object is written without a GET', async () => {
    const { world, run } = setup()
    world.objects.set('e', { bytes: new Uint8Array(0), etag: '"d41d8cd98f00b204e9800998ecf8427e"', integrity: { kind: 'md5', md5: md5b64(new Uint8Array(0)) } })
    const dl = run('e')
    expect(await dl.done).toMatchObject({ size: 0, verified: 'md5' })
    expect(world.gets).toHaveLength(0)
  })

  it('storage sending more than the range asked is refused', async () => {
    const { world, run } = setup({ rangeSize: 64 * 1024 })
    const data = bytes(100_000, 14)
    world.objects.set('n', { bytes: data, etag: '"y"', integrity: { kind: 'none' } })
    const inner = world.fetcher.get
    world.fetcher.get = (req) => inner({ ...req, url: req.url.replace(/end=\d+/, 'end=100000').replace('start=65536', 'start=0') })
    expect((await failure(run('n').done)).code).toBe('retries_exhausted')
  })
})
