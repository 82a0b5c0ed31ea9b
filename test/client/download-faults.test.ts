/**
 * `createDownloader` (Node) against faults between it and real storage, through the fault
 * proxy: every 2nd range GET reset, answered 500 / 503 + Retry-After, stalled (before the
 * answer, or mid-body), truncated, or with a byte flipped; keys that expire mid-download; a
 * range that keeps failing (typed failure, staging and state kept, a second run fetches only
 * what is missing); the object replaced at storage mid-download. The object is a Valet
 * multipart upload (part manifest): ranges are its parts, each checked against its MD5.
 *
 * Faults the proxy answers itself (status, stalls) run against Swift only, as in faults.test.ts;
 * those whose bytes come from storage (reset, truncation, flipped byte) and the storage-side
 * scenarios run against both.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { createDownloader, isValetError, type DownloaderOptions } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { azuriteCase, swiftCase } from '../support/storages.js'
import { isRangeGet, type FaultKind, type RangeGetRecord } from '../support/fault-proxy.js'
import { AUTH, downloadStack, putForDownload, sha256File, tempDirs, until } from './harness.js'

const PART = 5 * MiB
/** 4 parts, the last short: 4 range GETs without faults. */
const SIZE = 3 * PART + 1 * MiB + 17
const DATA = generate(SIZE, 601)
const DATA_SHA256 = sha256(DATA)
const STALL_TIMEOUT = 1500
const partial = (dest: string) => `${dest}.valet-partial`

interface Scenario {
  kind: FaultKind
  storages: readonly ('swift' | 'azurite')[]
}
const FAULTS: Scenario[] = [
  { kind: 'reset-mid-body', storages: ['swift', 'azurite'] },
  { kind: 'status-500', storages: ['swift'] },
  { kind: 'status-503-retry-after', storages: ['swift'] },
  { kind: 'stall', storages: ['swift'] },
  { kind: 'stall-mid-response', storages: ['swift'] },
  { kind: 'truncate-response', storages: ['swift', 'azurite'] },
  { kind: 'flip-response-byte', storages: ['swift', 'azurite'] },
]

/** Every retry of a range follows a faulted attempt of it: nothing is fetched twice for no reason. */
function expectRetriesOnlyAfterFaults(gets: RangeGetRecord[]): void {
  for (const g of gets.filter((x) => x.attempt > 1)) {
    const previous = gets.find((x) => x.start === g.start && x.attempt === g.attempt - 1)
    expect(previous?.fault, `range ${g.start} fetched again (attempt ${g.attempt}) after a clean attempt`).toBeDefined()
  }
}

describe.each([swiftCase, azuriteCase].map((make) => [make().name, make] as const))('%s: download faults', (name, makeCase) => {
  const storage = makeCase()
  const dirs = tempDirs()
  afterEach(() => dirs.cleanup())
  let stored: Promise<Awaited<ReturnType<typeof putForDownload>>> | undefined
  /** One multipart object per storage, shared by the scenarios that only read it. */
  const object = () => (stored ??= putForDownload(storage, DATA, 'multipart', PART))

  const options = (extra: Partial<DownloaderOptions> = {}) => ({ headers: AUTH, stateDir: dirs.make(), concurrency: 3, retryDelay: 50, ...extra })

  it.each(FAULTS.filter((f) => f.storages.includes(name)).map((f) => [f.kind] as const))('%s on every 2nd range GET: completes, same sha256, only faulted ranges fetched again', async (kind) => {
    const { key } = await object()
    const stack = await downloadStack(name, { rules: [{ kind, match: isRangeGet, every: 2 }] })
    try {
      const opts = options(kind === 'stall' || kind === 'stall-mid-response' ? { stallTimeout: STALL_TIMEOUT } : {})
      const dest = join(dirs.make(), `${kind}.bin`)
      const got = await createDownloader({ endpoint: stack.keys.endpoint, ...opts }).download(key, dest).done
      const { gets, faults } = stack.proxy.stats
      expect(faults[kind], 'the fault hit several ranges or retries').toBeGreaterThanOrEqual(2)
      expect(got).toMatchObject({ key, size: SIZE, verified: 'parts' })
      expect(await sha256File(dest)).toBe(DATA_SHA256)
      expectRetriesOnlyAfterFaults(gets)
      for (const faulted of gets.filter((g) => g.fault === kind)) {
        const next = gets.find((g) => g.start === faulted.start && g.attempt === faulted.attempt + 1)
        expect(next, `range ${faulted.start} was fetched again after ${kind}`).toBeDefined()
        if (kind === 'status-503-retry-after') {
          expect(next!.arrivedAt - faulted.endedAt!, `range ${faulted.start} retried before Retry-After: 1`).toBeGreaterThanOrEqual(995)
        }
        if (kind === 'stall' || kind === 'stall-mid-response') {
          // Given up by the stall timer, not before (100 ms for the request to reach the proxy).
          expect(faulted.endedAt! - faulted.arrivedAt, `range ${faulted.start}: gave up too early`).toBeGreaterThanOrEqual(STALL_TIMEOUT - 100)
        }
      }
      expect(existsSync(partial(dest))).toBe(false)
      expect(readdirSync(opts.stateDir)).toEqual([])
    } finally {
      await stack.close()
    }
  })

  it('keys expire mid-download (2 s keys, 3 MiB/s link): re-signed, no GET starts on an expired key, completes', async () => {
    const { key } = await object()
    const stack = await downloadStack(name, { responseBandwidth: 3 * MiB }, { keyTtl: 2 })
    try {
      const opts = options({ concurrency: 2 })
      const dest = join(dirs.make(), 'key-expiry.bin')
      const got = await createDownloader({ endpoint: stack.keys.endpoint, ...opts }).download(key, dest).done
      const { gets } = stack.proxy.stats
      expect(got.verified).toBe('parts')
      expect(await sha256File(dest)).toBe(DATA_SHA256)
      for (const g of gets) expect(g.arrivedAt, `range ${g.start} attempt ${g.attempt} started on an expired key`).toBeLessThan(g.keyExpiresAt!)
      // 2 parts share 3 MiB/s: a 5 MiB part streams for 3.3 s, past its key (2 s, up to 3 s with
      // X-Amz-Date's whole seconds), and still lands.
      const t0 = gets[0]!.arrivedAt
      const wire = gets.map((g) => `${g.start / PART}#${g.attempt} ${g.arrivedAt - t0}..${g.endedAt! - t0} key until ${g.keyExpiresAt! - t0}`).join(', ')
      expect(gets.filter((g) => g.endedAt! > g.keyExpiresAt!).length, `a key expired while its range was on the wire (ms from the first GET: ${wire})`).toBeGreaterThanOrEqual(1)
      expect(stack.keys.of('sign-ranges').length, 'keys signed again mid-way').toBeGreaterThanOrEqual(2)
      expect(gets.every((g) => g.clientStatus === 206), 'no GET refused (403: an expired key was used)').toBe(true)
    } finally {
      await stack.close()
    }
  })

  it('a range that always fails: retries_exhausted, staging and state kept; the next run fetches only the missing ranges', async () => {
    const { key } = await object()
    const stack = await downloadStack(name, { rules: [{ kind: 'status-500', match: (r) => r.isRangeGet && r.range!.start === 2 * PART }] })
    try {
      // One GET at a time: the ranges before the failing one land, the ones after may never start.
      const opts = options({ concurrency: 1, retries: 2 })
      const dest = join(dirs.make(), 'always-fails.bin')
      const error = await createDownloader({ endpoint: stack.keys.endpoint, ...opts }).download(key, dest).done.then(() => undefined, (e: unknown) => e)
      expect(isValetError(error) && error.code, String(error)).toBe('retries_exhausted')
      expect(stack.proxy.stats.gets.filter((g) => g.start === 2 * PART)).toHaveLength(3)
      expect(existsSync(dest)).toBe(false)
      expect(existsSync(partial(dest)), 'the staging is kept').toBe(true)
      expect(readdirSync(opts.stateDir).length, 'the state is kept').toBe(1)
      const landed = new Set(stack.proxy.stats.gets.filter((g) => g.delivered && g.clientStatus === 206).map((g) => g.start))
      expect(landed.size).toBeGreaterThanOrEqual(1)

      stack.proxy.rules = []
      stack.proxy.resetStats()
      const got = await createDownloader({ endpoint: stack.keys.endpoint, ...opts }).download(key, dest).done
      expect(got.verified).toBe('parts')
      expect(await sha256File(dest)).toBe(DATA_SHA256)
      const all = Array.from({ length: Math.ceil(SIZE / PART) }, (_, i) => i * PART)
      expect(stack.proxy.stats.gets.map((g) => g.start).sort((a, b) => a - b)).toEqual(all.filter((s) => !landed.has(s)))
      expect(existsSync(partial(dest))).toBe(false)
      expect(readdirSync(opts.stateDir)).toEqual([])
    } finally {
      await stack.close()
    }
  })

  it('the object replaced at storage mid-download: never a mix of versions', async () => {
    // An object of its own: it gets overwritten.
    const mine = await putForDownload(storage, DATA, 'multipart', PART)
    // The same size, in parts, by another writer: only the bytes (and the ETag) tell the versions apart.
    const replacement = generate(SIZE, 602)
    const stack = await downloadStack(name, { responseBandwidth: 4 * MiB })
    try {
      // One GET at a time: the overwrite lands while at least two parts are still to be fetched.
      const opts = options({ concurrency: 1 })
      const dest = join(dirs.make(), 'replaced.bin')
      let replaced: Promise<void> | undefined
      let replacedAt = 0
      let writtenAt = 0
      const t0 = Date.now()
      const dl = createDownloader({ endpoint: stack.keys.endpoint, ...opts }).download(mine.key, dest, {
        onProgress: (p) => {
          if (replaced === undefined && p.rangesDone >= 1) {
            replacedAt = Date.now()
            replaced = storage.writeInParts(mine.key, replacement, PART).then(() => void (writtenAt = Date.now()))
          }
        },
      })
      const outcome = await dl.done.then((result) => ({ result }), (error: unknown) => ({ error }))
      await until(() => replaced !== undefined, 'the overwrite')
      await replaced
      // The replacement really happened mid-way: a GET bound to the old version was refused.
      const wire = stack.proxy.stats.gets.map((g) => `${g.start}#${g.attempt}:${g.storageStatus}/${g.clientStatus}${g.delivered ? '' : ' cut'}@${g.arrivedAt - t0}..${(g.endedAt ?? t0) - t0}`)
      const told = 'result' in outcome ? `complete, ${outcome.result.size} bytes, verified ${outcome.result.verified}` : `failed: ${String(outcome.error)}`
      expect(stack.proxy.stats.gets.some((g) => g.storageStatus === 412), `a range GET answered 412 (overwrite at ${replacedAt - t0} ms, written at ${writtenAt - t0} ms; ${told}; GETs ${wire.join(', ')})`).toBe(true)
      if ('result' in outcome) {
        console.log(`[download-faults] ${name}: object replaced mid-download → restarted, complete with the new object (verified ${outcome.result.verified})`)
        expect(outcome.result.size).toBe(replacement.byteLength)
        expect(outcome.result.etag).not.toBe(stack.keys.of('open-download')[0]!.response.etag)
        expect(await sha256File(dest)).toBe(sha256(replacement))
        expect(stack.keys.of('open-download').length, 'opened again').toBeGreaterThanOrEqual(2)
      } else {
        const { error } = outcome
        console.log(`[download-faults] ${name}: object replaced mid-download → failed: ${isValetError(error) ? `${error.code}: ${error.message}` : String(error)}`)
        // The engine's typed answer to an object that keeps changing; a 412 retried until retries run out would not be it.
        expect(isValetError(error) && error.code, String(error)).toBe('object_changed')
        expect(existsSync(dest)).toBe(false)
      }
      expect(existsSync(partial(dest))).toBe(false)
    } finally {
      await stack.close()
    }
  })
})
