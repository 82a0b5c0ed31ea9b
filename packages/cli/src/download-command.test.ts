import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ValetError } from '@valet/client'
import { UsageError } from './cli-args.js'
import { downloadCommand, shareConcurrency, type CliDownloaderOptions, type DownloadFailedLine, type DownloadedLine, type DownloaderFactory } from './download-command.js'
import type { DownloadProgressView } from './download-renderer.js'
import { memoryIo } from './testing/memory-io.js'

const EP = 'http://127.0.0.1:3000/api/valet'
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'valet-download-cmd-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const io = () => memoryIo(dir, { CI: '1' })
const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as DownloadedLine | DownloadFailedLine)

type Behaviour = { bytes: string; verified?: DownloadedLine['verified']; resumed?: number } | { error: ValetError } | 'hang'

/** A downloader that writes `bytes` to the destination (or fails, or waits until paused) and logs its calls. */
function fakeDownloader(objects: Record<string, Behaviour>) {
  const log = { options: undefined as CliDownloaderOptions | undefined, calls: [] as { key: string; dest: string; concurrency: number }[], paused: [] as string[], inFlight: 0, maxInFlight: 0 }
  const factory: DownloaderFactory = (options) => {
    log.options = options
    return {
      download(key, dest, { onProgress, concurrency }) {
        log.calls.push({ key, dest, concurrency })
        const b = objects[key]
        log.inFlight++
        log.maxInFlight = Math.max(log.maxInFlight, log.inFlight)
        let pause = () => {}
        const done = new Promise<Awaited<ReturnType<ReturnType<DownloaderFactory>['download']>['done']>>((resolve, reject) => {
          setTimeout(() => {
            if (b === undefined) return reject(new ValetError('object_not_found', `no object at ${key}`))
            if (b === 'hang') {
              const p: DownloadProgressView = { bytesReceived: 5, bytesTotal: 10, bytesResumed: 0, rangesDone: 1, rangesTotal: 2, rate: 1, eta: 5, phase: 'downloading' }
              onProgress(p)
              pause = () => log.paused.push(key) // stays pending, as a paused download does
              return
            }
            if ('error' in b) {
              log.inFlight--
              return reject(b.error)
            }
            const size = b.bytes.length
            onProgress({ bytesReceived: size, bytesTotal: size, bytesResumed: b.resumed ?? 0, rangesDone: 1, rangesTotal: 1, rate: 0, eta: 0, phase: 'complete' })
            writeFileSync(dest, b.bytes)
            log.inFlight--
            resolve({ key, size, etag: `"e-${key}"`, type: 'application/octet-stream', path: dest, verified: b.verified ?? 'parts' })
          }, 5)
        })
        return { done, pause: () => pause(), resume() {}, abort() {} }
      },
    }
  }
  return { factory, log }
}

describe('valet download (in-process, fake downloader)', () => {
  it('downloads each key to <out>/<basename>, one JSON line each, exit 0, creating --out', async () => {
    const { factory, log } = fakeDownloader({ 'dev/1/a.bin': { bytes: 'aaa' }, 'dev/2/b.txt': { bytes: 'bb', verified: 'md5', resumed: 1 } })
    const cli = io()
    const code = await downloadCommand(['dev/1/a.bin', 'dev/2/b.txt', '--endpoint', EP, '--out', 'got/deeper', '--json', '--header', 'x-user: alice', '--state-dir', 'st'], cli, { createDownloader: factory })
    expect(code, cli.err()).toBe(0)
    expect(readFileSync(join(dir, 'got/deeper/a.bin'), 'utf8')).toBe('aaa')
    expect(readFileSync(join(dir, 'got/deeper/b.txt'), 'utf8')).toBe('bb')
    expect(lines(cli.out())).toEqual([
      { key: 'dev/1/a.bin', path: join(dir, 'got/deeper/a.bin'), size: 3, etag: '"e-dev/1/a.bin"', type: 'application/octet-stream', verified: 'parts', bytesResumed: 0 },
      { key: 'dev/2/b.txt', path: join(dir, 'got/deeper/b.txt'), size: 2, etag: '"e-dev/2/b.txt"', type: 'application/octet-stream', verified: 'md5', bytesResumed: 1 },
    ])
    expect(log.options).toEqual({ endpoint: EP, concurrency: 4, headers: { 'x-user': 'alice' }, resume: true, retries: 5, fsync: false, stateDir: join(dir, 'st') })
    // 4 GETs over 2 files: 2 each.
    expect(log.calls.map((c) => c.concurrency)).toEqual([2, 2])
  })

  it('leaves the state dir to the downloader when --state-dir is not given', async () => {
    const { factory, log } = fakeDownloader({ 'k/a': { bytes: 'a' } })
    expect(await downloadCommand(['k/a', '--endpoint', EP], io(), { createDownloader: factory })).toBe(0)
    expect(log.options).not.toHaveProperty('stateDir')
  })

  it('a refused key fails alone: its failure line (as valet upload prints them), the others download, exit 1', async () => {
    const { factory } = fakeDownloader({ 'dev/1/ok.bin': { bytes: 'ok' }, 'bob/1/no.bin': { error: new ValetError('forbidden', 'canRead refused') } })
    const cli = io()
    const code = await downloadCommand(['bob/1/no.bin', 'dev/1/ok.bin', 'dev/9/gone.bin', '--endpoint', EP, '--json'], cli, { createDownloader: factory })
    expect(code).toBe(1)
    const got = lines(cli.out())
    expect(got).toContainEqual({ key: 'bob/1/no.bin', path: join(dir, 'no.bin'), error: { code: 'forbidden', message: 'canRead refused' } })
    expect(got).toContainEqual({ key: 'dev/9/gone.bin', path: join(dir, 'gone.bin'), error: { code: 'object_not_found', message: 'no object at dev/9/gone.bin' } })
    expect(got.find((l) => l.key === 'dev/1/ok.bin')).toMatchObject({ size: 2, verified: 'parts' })
  })

  it('prints plain lines without --json: start, done with how it was verified, failures, a summary', async () => {
    const { factory } = fakeDownloader({ 'dev/1/a.bin': { bytes: 'aaa', verified: 'size-etag' }, 'bob/1/no.bin': { error: new ValetError('forbidden', 'canRead refused') } })
    const cli = io()
    expect(await downloadCommand(['dev/1/a.bin', 'bob/1/no.bin', '--endpoint', EP, '--concurrency', '1'], cli, { createDownloader: factory })).toBe(1)
    const out = cli.out()
    expect(out).toContain('start  dev/1/a.bin → a.bin')
    expect(out).toMatch(/done {3}a\.bin \(3 B in [\d.]+s, verified: size and ETag only: storage recorded no checksum for it\)/)
    expect(out).toContain('failed bob/1/no.bin → no.bin: forbidden: canRead refused')
    expect(out).toMatch(/1 of 2 files downloaded \(3 B\) in [\d.]+s, 1 failed\n$/)
  })

  it('runs at most --concurrency files at once', async () => {
    const objects = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k/${i}.bin`, { bytes: 'x' }]))
    const { factory, log } = fakeDownloader(objects)
    expect(await downloadCommand([...Object.keys(objects), '--endpoint', EP, '--concurrency', '3'], io(), { createDownloader: factory })).toBe(0)
    expect(log.maxInFlight).toBe(3)
    expect(log.calls.every((c) => c.concurrency === 1)).toBe(true)
  })

  it('SIGINT pauses the downloads in flight (state kept), prints a paused line each and exits 130', async () => {
    const { factory, log } = fakeDownloader({ 'k/slow.bin': 'hang', 'k/later.bin': { bytes: 'x' } })
    const cli = io()
    const running = downloadCommand(['k/slow.bin', 'k/later.bin', '--endpoint', EP, '--json', '--concurrency', '1'], cli, { createDownloader: factory })
    for (let i = 0; i < 100 && log.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 20))
    process.emit('SIGINT', 'SIGINT')
    expect(await running).toBe(130)
    expect(log.paused).toEqual(['k/slow.bin'])
    expect(log.calls.map((c) => c.key), 'no file starts after the interrupt').toEqual(['k/slow.bin'])
    expect(lines(cli.out())).toEqual([{ key: 'k/slow.bin', path: join(dir, 'slow.bin'), error: { code: 'paused', message: 'interrupted; run the same command again to resume' } }])
    expect(cli.err()).toBe('')
  })

  it('--out naming a file is a usage error', async () => {
    writeFileSync(join(dir, 'afile'), 'x')
    const { factory } = fakeDownloader({})
    await expect(downloadCommand(['k/a', '--endpoint', EP, '--out', 'afile'], io(), { createDownloader: factory })).rejects.toThrow(UsageError)
    await expect(downloadCommand(['k/a', '--endpoint', EP, '--out', 'afile'], io(), { createDownloader: factory })).rejects.toThrow(/--out .*afile is not a folder/)
  })

  it('an option the downloader refuses is a usage error', async () => {
    const factory: DownloaderFactory = () => {
      throw new ValetError('invalid_option', 'createDownloader: `endpoint` is bad', { context: { option: 'endpoint', owner: 'createDownloader' } })
    }
    await expect(downloadCommand(['k/a', '--endpoint', EP], io(), { createDownloader: factory })).rejects.toThrow(UsageError)
  })
})

describe('shareConcurrency', () => {
  it.each([
    [1, 4, { filesAtOnce: 1, perFile: 4 }],
    [2, 4, { filesAtOnce: 2, perFile: 2 }],
    [3, 4, { filesAtOnce: 3, perFile: 1 }],
    [10, 4, { filesAtOnce: 4, perFile: 1 }],
    [10, 1, { filesAtOnce: 1, perFile: 1 }],
  ])('%i files, --concurrency %i → %j', (files, concurrency, expected) => {
    expect(shareConcurrency(files, concurrency)).toEqual(expected)
  })
})
