/**
 * `createDownloader` (Node) on real storage, Swift s3api and Azurite, through the fault proxy
 * (no faults here: download-faults.test.ts): round trips upload → download whose file has the
 * source's sha256, for each way an object can be proven — a Valet multipart upload (`parts`:
 * fetched part by part, each part's MD5 checked), a single PUT (`md5`), an object Valet did not
 * write (`size-etag`) — and the control paths: pause/resume keeps what was verified, abort
 * leaves nothing behind, another principal's object is refused before any byte moves.
 * What crossed the wire is read from the proxy (`stats.gets`), not from the client.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KiB, MiB } from '@valet/protocol'
import { createDownloader, createUploader, isValetError, type DownloaderOptions } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { azuriteCase, swiftCase } from '../support/storages.js'
import type { RangeGetRecord } from '../support/fault-proxy.js'
import { AUTH, OTHER_AUTH, downloadStack, putForDownload, sha256File, tempDirs, until } from './harness.js'

const PART = 5 * MiB
const partial = (dest: string) => `${dest}.valet-partial`
/** The ranges on the wire, as `[start, end)` pairs in order of start, each once. */
const rangesOf = (gets: RangeGetRecord[]) => [...new Map(gets.map((g) => [`${g.start}`, [g.start, g.end]])).values()].sort((a, b) => a[0]! - b[0]!)
const partRanges = (size: number, part: number) => Array.from({ length: Math.ceil(size / part) }, (_, i) => [i * part, Math.min(size, (i + 1) * part)])

describe.each([swiftCase, azuriteCase].map((make) => [make().name, make] as const))('%s: downloads', (name, makeCase) => {
  const storage = makeCase()
  const dirs = tempDirs()
  let stack: Awaited<ReturnType<typeof downloadStack>>
  beforeAll(async () => {
    stack = await downloadStack(name)
  })
  afterAll(async () => {
    await stack.close()
  })
  afterEach(() => dirs.cleanup())

  /** A downloader on the stack's endpoint with its state in a fresh directory. */
  function downloader(options: Partial<DownloaderOptions> = {}, endpoint = stack.keys.endpoint) {
    const stateDir = dirs.make()
    return { stateDir, downloader: createDownloader({ endpoint, headers: AUTH, stateDir, ...options }) }
  }

  it('a multipart upload by the client, downloaded part by part: verified "parts", same sha256, nothing left over', async () => {
    const bytes = generate(3 * PART + 123 * KiB, 501)
    const up = await createUploader({ endpoint: stack.keys.endpoint, headers: AUTH, partSize: PART, concurrency: 3, resume: false }).upload(bytes, { name: 'round-trip.bin' }).done
    stack.proxy.resetStats()
    const { stateDir, downloader: d } = downloader()
    const dest = join(dirs.make(), 'round-trip.bin')
    const progress: number[] = []
    const dl = d.download(up.key, dest, { onProgress: (p) => progress.push(p.bytesVerified) })
    const got = await dl.done
    const opened = stack.keys.of('open-download').at(-1)!.response
    expect(got).toMatchObject({ key: up.key, size: bytes.byteLength, etag: opened.etag, type: 'application/octet-stream', path: dest, verified: 'parts' })
    expect(dl.status).toBe('complete')
    expect(await sha256File(dest)).toBe(sha256(bytes))
    // Part by part: each range on the wire is one part, fetched once, bound to this version.
    expect(rangesOf(stack.proxy.stats.gets)).toEqual(partRanges(bytes.byteLength, PART))
    expect(stack.proxy.stats.gets.every((g) => g.attempt === 1 && g.clientStatus === 206 && g.delivered)).toBe(true)
    // Every GET bound to the version opened (If-Match: its ETag).
    expect(new Set(stack.proxy.stats.gets.map((g) => g.ifMatch?.replace(/"/g, '')))).toEqual(new Set([opened.etag.replace(/"/g, '')]))
    expect(progress.at(-1)).toBe(bytes.byteLength)
    expect(existsSync(partial(dest))).toBe(false)
    expect(readdirSync(stateDir)).toEqual([])
  })

  it('a single-PUT upload: verified against the whole-object MD5 storage recorded ("md5")', async () => {
    const bytes = generate(200 * KiB, 502)
    const up = await createUploader({ endpoint: stack.keys.endpoint, headers: AUTH, resume: false }).upload(bytes, { name: 'single.bin' }).done
    expect(stack.keys.of('create').at(-1)!.response.mode).toBe('single')
    const { downloader: d } = downloader()
    const dest = join(dirs.make(), 'single.bin')
    const got = await d.download(up.key, dest).done
    expect(got).toMatchObject({ key: up.key, size: bytes.byteLength, verified: 'md5' })
    expect(await sha256File(dest)).toBe(sha256(bytes))
  })

  it('an object Valet did not write, in parts: rangeSize ranges, verified "size-etag" only, same sha256', async () => {
    const bytes = generate(PART + 2 * MiB + 7, 503)
    const object = await putForDownload(storage, bytes, 'direct-parts', PART)
    stack.proxy.resetStats()
    const { downloader: d } = downloader({ rangeSize: MiB })
    const dest = join(dirs.make(), 'direct-parts.bin')
    const got = await d.download(object.key, dest).done
    expect(got).toMatchObject({ key: object.key, size: object.size, verified: 'size-etag' })
    expect(await sha256File(dest)).toBe(object.sha256)
    expect(rangesOf(stack.proxy.stats.gets)).toEqual(partRanges(object.size, MiB))
  })

  it('an object another writer PUT in one piece, fetched in several ranges: the whole-object MD5 storage recorded is checked ("md5")', async () => {
    // S3 records a single PUT's MD5 as its ETag whoever wrote it; so does Azure (Content-MD5) for Put Blob.
    const bytes = generate(3 * MiB + 512 * KiB + 7, 506)
    const object = await putForDownload(storage, bytes, 'direct')
    stack.proxy.resetStats()
    const { stateDir, downloader: d } = downloader({ rangeSize: MiB })
    const dest = join(dirs.make(), 'direct.bin')
    const got = await d.download(object.key, dest).done
    expect(got).toMatchObject({ key: object.key, size: object.size, verified: 'md5' })
    expect(await sha256File(dest)).toBe(object.sha256)
    expect(rangesOf(stack.proxy.stats.gets)).toEqual(partRanges(object.size, MiB))
    expect(existsSync(partial(dest))).toBe(false)
    expect(readdirSync(stateDir)).toEqual([])
  })

  it('an empty object: an empty file, no GET', async () => {
    const object = await putForDownload(storage, new Uint8Array(0), 'direct')
    stack.proxy.resetStats()
    const { downloader: d } = downloader()
    const dest = join(dirs.make(), 'empty.bin')
    const got = await d.download(object.key, dest).done
    expect(got).toMatchObject({ size: 0, path: dest })
    expect(statSync(dest).size).toBe(0)
    expect(stack.proxy.stats.gets).toEqual([])
  })

  it('another principal\'s object is refused (forbidden) before any GET; a missing one is object_not_found', async () => {
    const object = await putForDownload(storage, generate(64 * KiB, 504), 'multipart')
    stack.proxy.resetStats()
    const dest = join(dirs.make(), 'theirs.bin')
    const other = createDownloader({ endpoint: stack.keys.endpoint, headers: OTHER_AUTH, stateDir: dirs.make() })
    const error = await other.download(object.key, dest).done.then(() => undefined, (e: unknown) => e)
    expect(isValetError(error) && error.code, String(error)).toBe('forbidden')
    expect(stack.keys.of('open-download').at(-1)!.status).toBe(403)
    expect(stack.proxy.stats.gets).toEqual([])
    expect(existsSync(dest) || existsSync(partial(dest))).toBe(false)
    const missing = await downloader().downloader.download(`${object.key}.nope`, dest).done.then(() => undefined, (e: unknown) => e)
    expect(isValetError(missing) && missing.code, String(missing)).toBe('object_not_found')
  })

  describe('on a slow link (4 MiB/s)', () => {
    let slow: Awaited<ReturnType<typeof downloadStack>>
    let object: Awaited<ReturnType<typeof putForDownload>>
    beforeAll(async () => {
      slow = await downloadStack(name, { responseBandwidth: 4 * MiB })
      object = await putForDownload(storage, generate(4 * PART, 505), 'multipart')
    })
    afterAll(async () => {
      await slow.close()
    })

    it('pause stops the GETs and keeps what was verified; resume fetches only the rest', async () => {
      slow.proxy.resetStats()
      const { stateDir, downloader: d } = downloader({ concurrency: 2 }, slow.keys.endpoint)
      const dest = join(dirs.make(), 'paused.bin')
      let pausedAt = 0
      const dl = d.download(object.key, dest, {
        onProgress: (p) => {
          // Once one part is verified, and while the next are on the wire.
          if (pausedAt === 0 && p.rangesDone >= 1) {
            pausedAt = Date.now()
            dl.pause()
          }
        },
      })
      let settled = false
      void dl.done.then(() => (settled = true), () => (settled = true))
      await until(() => pausedAt > 0, 'a verified part')
      expect(dl.status).toBe('paused')
      // The GETs in flight end; none starts while paused.
      await until(() => slow.proxy.stats.gets.every((g) => g.endedAt !== undefined), 'the GETs in flight to end', 5000)
      await new Promise((r) => setTimeout(r, 1000))
      expect(slow.proxy.stats.gets.filter((g) => g.arrivedAt > pausedAt + 200)).toEqual([])
      expect(settled).toBe(false)
      expect(existsSync(partial(dest))).toBe(true)
      // What the download calls verified, as its state file says (what a killed process would resume from).
      const states = readdirSync(stateDir)
      expect(states).toHaveLength(1)
      const state = JSON.parse(readFileSync(join(stateDir, states[0]!), 'utf8'))
      expect(state).toMatchObject({ key: object.key, size: object.size, rangeSize: PART })
      const verifiedBefore = (state.done as number[]).map((i) => i * PART)
      expect(verifiedBefore.length).toBeGreaterThanOrEqual(1)
      const resumedAt = Date.now()
      dl.resume()
      const got = await dl.done
      expect(got.verified).toBe('parts')
      expect(await sha256File(dest)).toBe(object.sha256)
      // What was delivered and verified before the pause is not fetched again.
      const after = slow.proxy.stats.gets.filter((g) => g.arrivedAt >= resumedAt).map((g) => g.start)
      expect(after.filter((start) => verifiedBefore.includes(start))).toEqual([])
      expect(new Set([...verifiedBefore, ...after])).toEqual(new Set(partRanges(object.size, PART).map(([s]) => s)))
      // At most the ranges in flight at the pause (2) were fetched again.
      const wire = slow.proxy.stats.gets.map((g) => `${g.start / PART}#${g.attempt}@${g.arrivedAt - pausedAt}..${(g.endedAt ?? 0) - pausedAt}ms:${g.clientStatus}${g.delivered ? '' : ' cut'}`)
      expect(slow.proxy.stats.gets.length, `range#attempt@arrived..ended (ms from the pause): ${wire.join(', ')}; done at pause ${state.done}`).toBeLessThanOrEqual(partRanges(object.size, PART).length + 2)
      expect(existsSync(partial(dest))).toBe(false)
      expect(readdirSync(stateDir)).toEqual([])
    })

    it('abort mid-way: done rejects with aborted; no file, no staging, no state', async () => {
      const { stateDir, downloader: d } = downloader({ concurrency: 2 }, slow.keys.endpoint)
      const dest = join(dirs.make(), 'aborted.bin')
      let aborted = false
      const dl = d.download(object.key, dest, {
        onProgress: (p) => {
          if (!aborted && p.bytesReceived >= 2 * MiB) {
            aborted = true
            dl.abort()
          }
        },
      })
      const error = await dl.done.then(() => undefined, (e: unknown) => e)
      expect(aborted).toBe(true)
      expect(isValetError(error) && error.code, String(error)).toBe('aborted')
      expect(dl.status).toBe('aborted')
      // A state file written by a range that finished while the abort ran would be a leak: give it a moment.
      await new Promise((r) => setTimeout(r, 300))
      expect(existsSync(dest)).toBe(false)
      expect(existsSync(partial(dest))).toBe(false)
      expect(readdirSync(stateDir)).toEqual([])
    })
  })
})
