/**
 * `createDownloader` in Node on real storage: a Valet upload downloaded back part by part with
 * every part's MD5 checked, and a download stopped halfway (a failed run) continued by a second
 * run that fetches only the missing ranges and ends with the same bytes.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { createDownloader, createUploader, isValetError, type DownloadProgress } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { AUTH, proxiedStack } from './harness.js'
import { startThrottleProxy } from '../cli/throttle-proxy.js'

const canRead = ({ principal, key }: { principal: { id: string }; key: string }) => key.startsWith(`${principalPrefix(principal.id)}/`)

/** A read key's GET (they carry `If-Match`), not the key server's own reads of the object. */
const isRangeGet = (r: { method: string; headers: Record<string, string | string[] | undefined> }) => r.method === 'GET' && r.headers['if-match'] !== undefined

describe.each(storageCases.map((make) => [make().name, make] as const))('%s: downloads resume where they stopped', (name) => {
  let stack: Awaited<ReturnType<typeof proxiedStack>>
  let dir: string
  beforeAll(async () => {
    stack = await proxiedStack(name, {}, { canRead })
    dir = await mkdtemp(join(tmpdir(), `valet-dl-${name}-`))
  })
  afterAll(async () => {
    await stack?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('a 21 MiB multipart object: every part checked, a failed run continued by the next with only the missing ranges', async () => {
    const data = generate(21 * MiB + 77, 7)
    const source = join(dir, 'src.bin')
    await writeFile(source, data)
    const up = await createUploader({ endpoint: stack.keys.endpoint, headers: AUTH, partSize: 5 * MiB, resume: false }).upload(source).done
    const stateDir = join(dir, 'state')
    const target = join(dir, 'out.bin')
    const downloader = createDownloader({ endpoint: stack.keys.endpoint, headers: AUTH, concurrency: 1, stateDir, retries: 1, retryDelay: 10 })
    // Storage refuses the third part on: one GET at a time, so the first two parts are done when it fails.
    const rangeStart = (r: { headers: Record<string, string | string[] | undefined> }) => Number(/bytes=(\d+)-/.exec(String(r.headers.range ?? r.headers['x-ms-range']))?.[1])
    stack.proxy.rules = [{ kind: 'status-500', match: (r) => isRangeGet(r) && rangeStart(r) >= 10 * MiB }]
    const first = downloader.download(up.key, target)
    const error = await first.done.then(() => undefined, (e: unknown) => e)
    expect(isValetError(error) && error.code, String(error)).toBe('retries_exhausted')
    expect(existsSync(target)).toBe(false)
    expect(existsSync(`${target}.valet-partial`)).toBe(true)
    expect(await readdir(stateDir)).toHaveLength(1)
    const ranges: string[] = []
    const record = (r: { method: string; headers: Record<string, string | string[] | undefined> }) => {
      if (isRangeGet(r)) ranges.push(String(r.headers.range ?? r.headers['x-ms-range']))
      return false
    }
    stack.proxy.rules = [{ kind: 'status-500', match: record }]
    const progress: DownloadProgress[] = []
    const got = await downloader.download(up.key, target, { concurrency: 3, onProgress: (p) => progress.push(p) }).done
    expect(got).toMatchObject({ key: up.key, size: data.length, path: target, verified: 'parts' })
    expect(sha256(await readFile(target))).toBe(sha256(data))
    expect(ranges).toHaveLength(5 - 2)
    expect(progress.at(-1)).toMatchObject({ phase: 'complete', bytesReceived: data.length, bytesResumed: 2 * 5 * MiB })
    expect(existsSync(`${target}.valet-partial`)).toBe(false)
    expect(await readdir(stateDir)).toHaveLength(0)
  })

  it('with http_proxy set, range GETs go through the proxy (as part PUTs do)', async () => {
    const data = generate(6 * MiB, 8)
    const source = join(dir, 'p.bin')
    await writeFile(source, data)
    const up = await createUploader({ endpoint: stack.keys.endpoint, headers: AUTH, partSize: 5 * MiB, resume: false }).upload(source).done
    const proxy = await startThrottleProxy()
    const saved = { http: process.env.http_proxy, no: process.env.no_proxy, NO: process.env.NO_PROXY }
    process.env.http_proxy = proxy.url
    delete process.env.no_proxy
    delete process.env.NO_PROXY
    try {
      const target = join(dir, 'p.out')
      const got = await createDownloader({ endpoint: stack.keys.endpoint, headers: AUTH, resume: false }).download(up.key, target).done
      expect(got.verified).toBe('parts')
      expect(sha256(await readFile(target))).toBe(sha256(data))
      expect(proxy.requests.filter((r) => r.startsWith('GET ')).length).toBeGreaterThanOrEqual(2)
    } finally {
      for (const [k, v] of [['http_proxy', saved.http], ['no_proxy', saved.no], ['NO_PROXY', saved.NO]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      await proxy.close()
    }
  })
})
