/**
 * One download, start to finish: open it, plan its ranges, pick up what an earlier run left
 * (re-checked), fetch the rest in parallel with pause/resume, verify the whole object, and only
 * then hand it to its destination. A replaced object restarts from nothing, never mixes versions.
 */
import { ValetError, isValetError, sameEtag, type OpenDownloadResponse } from '@valet/protocol'
import pLimit from 'p-limit'
import { isCancel, isPause, linkSignals } from '../engine/abort.js'
import type { UploadControl } from '../engine/upload-control.js'
import type { KeyEndpoint } from '../keys/key-endpoint.js'
import type { Clock } from '../ports.js'
import type { DownloadResult } from './create-downloader.js'
import type { DownloadSettings, NormalizedDownloaderOptions } from './download-options.js'
import type { DownloadSink, DownloadState, Md5Stream, PreparedDestination, RangeFetcher } from './download-ports.js'
import { DownloadTracker } from './download-progress.js'
import { ObjectChanged, fetchRange, type RangeContext } from './fetch-range.js'
import { checkMultipartEtag, planRanges, type RangePlan } from './range-plan.js'
import { RangeKeys } from './range-keys.js'
import { downloadFingerprint, md5Of } from './staged-md5.js'

export interface DownloadDeps {
  options: NormalizedDownloaderOptions
  api: Pick<KeyEndpoint, 'openDownload' | 'signRanges'>
  fetcher: RangeFetcher
  md5(): Promise<Md5Stream>
  clock: Clock
}

/** Downloads running in this process or page, by fingerprint: two at once would share staging. */
const running = new Set<string>()

/** A replaced object restarts the download this often before it fails with `object_changed`. */
const MAX_RESTARTS = 3
/** State older than this is not trusted to describe staging any more. */
const STATE_MAX_AGE_MS = 7 * 24 * 3600_000

export async function runDownload(
  deps: DownloadDeps,
  control: UploadControl,
  key: string,
  destination: PreparedDestination,
  settings: DownloadSettings,
): Promise<DownloadResult> {
  let lastChange = ''
  for (let restarts = 0; restarts <= MAX_RESTARTS; restarts++) {
    await control.untilRunning()
    const opened = await deps.api.openDownload(key, control.cancelSignal)
    try {
      return await downloadVersion(deps, control, opened, destination, settings)
    } catch (e) {
      // Everything but staging reports ValetErrors (the fetcher, the key endpoint): what is left
      // is the file system or OPFS saying no.
      if (!(e instanceof ObjectChanged) && !isValetError(e)) {
        const message = (e as Error)?.message ?? String(e)
        throw new ValetError('destination_failed', `"${key}": writing or reading the download's staging or destination failed: ${message}`, { cause: e, context: { key } })
      }
      if (!(e instanceof ObjectChanged)) throw e
      lastChange = e.detail
    }
  }
  throw new ValetError('object_changed', `"${key}" kept changing while it was downloaded (${MAX_RESTARTS + 1} tries); last: ${lastChange}`, {
    context: { key },
  })
}

function usableState(state: DownloadState | undefined, opened: OpenDownloadResponse, plan: RangePlan, now: number): state is DownloadState {
  return (
    state !== undefined &&
    state.key === opened.key &&
    sameEtag(state.etag, opened.etag) &&
    state.size === opened.size &&
    state.rangeSize === plan.rangeSize &&
    now - Date.parse(state.updatedAt) < STATE_MAX_AGE_MS
  )
}

async function downloadVersion(
  deps: DownloadDeps,
  control: UploadControl,
  opened: OpenDownloadResponse,
  destination: PreparedDestination,
  settings: DownloadSettings,
): Promise<DownloadResult> {
  const { options, clock } = deps
  const cancel = control.cancelSignal
  const plan = planRanges(opened, options.rangeSize)
  await checkMultipartEtag(opened, deps.md5)
  const fingerprint = await downloadFingerprint(deps.md5, options.endpoint, opened.key, destination.id)
  if (running.has(fingerprint)) {
    throw new ValetError('invalid_option', `download(): "${opened.key}" is already being downloaded to that destination; wait for it, or pick another destination`, {
      context: { option: 'destination', owner: 'download()' },
    })
  }
  running.add(fingerprint)
  try {
    return await fetchVersion(deps, control, opened, plan, fingerprint, destination, settings)
  } finally {
    running.delete(fingerprint)
  }
}

async function fetchVersion(
  deps: DownloadDeps,
  control: UploadControl,
  opened: OpenDownloadResponse,
  plan: RangePlan,
  fingerprint: string,
  destination: PreparedDestination,
  settings: DownloadSettings,
): Promise<DownloadResult> {
  const { options, clock } = deps
  const cancel = control.cancelSignal
  const store = options.stateStore
  const stored = await store?.get(fingerprint).catch(() => undefined)
  const resumable = usableState(stored, opened, plan, clock.now())
  const sink = await destination.open({ fingerprint, key: opened.key, size: opened.size, etag: opened.etag, resume: resumable }, cancel)
  const done = new Set<number>(resumable && sink.resumed ? stored.done.filter((i) => i < plan.ranges.length) : [])
  const progress = new DownloadTracker(opened.size, plan.ranges.length, options.progressInterval, clock, settings.onProgress)
  let saving: Promise<void> = Promise.resolve()
  const save = (): Promise<void> => {
    if (store === undefined) return saving
    const state: DownloadState = { version: 1, key: opened.key, etag: opened.etag, size: opened.size, rangeSize: plan.rangeSize, done: [...done].sort((a, b) => a - b), updatedAt: new Date(clock.now()).toISOString() }
    // In order, so an older state never lands after a newer one; a state that can't be written
    // costs a resume, not the download.
    saving = saving.then(() => store.set(fingerprint, state)).catch(() => {})
    return saving
  }
  try {
    await recheck(deps, sink, plan, done, cancel)
    for (const i of done) progress.resumed(i, rangeLength(plan, i))
    await save()
    let committedBytes = [...done].reduce((n, i) => n + rangeLength(plan, i), 0)
    let token = opened.token
    const keys = new RangeKeys({
      api: deps.api,
      ranges: plan.ranges,
      token,
      clock,
      concurrency: settings.concurrency,
      wanted: (i) => !done.has(i),
      reopen: async (signal) => {
        const again = await deps.api.openDownload(opened.key, signal)
        if (!sameEtag(again.etag, opened.etag) || again.size !== opened.size) throw new ObjectChanged(`"${opened.key}" was replaced (ETag ${again.etag})`)
        token = again.token
        return token
      },
    })
    const ctx: RangeContext = {
      ranges: plan.ranges,
      expectedMd5: (i) => plan.md5s[i],
      etag: opened.etag,
      size: opened.size,
      keys,
      sink,
      fetcher: deps.fetcher,
      md5: deps.md5,
      progress,
      clock,
      ...options.ranges,
      committed: () => committedBytes,
    }
    while (done.size < plan.ranges.length) {
      if (control.status === 'paused') progress.phase('paused')
      await control.untilRunning()
      const run = control.transferSignal()
      progress.phase('downloading')
      try {
        const missing = plan.ranges.map((_, i) => i).filter((i) => !done.has(i))
        await fetchAll(missing, settings.concurrency, run.signal, async (i, signal) => {
          await fetchRange(ctx, i, signal)
          done.add(i)
          committedBytes += rangeLength(plan, i)
          void save()
        })
      } catch (e) {
        if (!isPause(e) || cancel.aborted) throw e
        progress.phase('paused')
      } finally {
        run.dispose()
      }
    }
    progress.phase('verifying')
    if (plan.wholeMd5 !== undefined) {
      const got = await md5Of(deps.md5, sink.read(0, opened.size, cancel))
      // Every range was read with If-Match on one version: a mismatch is bytes damaged on the way
      // that no range check could see. Nothing tells which range: start over.
      if (got !== plan.wholeMd5) throw new ObjectChanged(`the object's bytes do not match the MD5 storage recorded (${plan.wholeMd5}, got ${got})`)
    }
    const out = await sink.finish(cancel)
    await saving
    await store?.remove(fingerprint).catch(() => {})
    progress.finish('complete')
    return { key: opened.key, size: opened.size, etag: opened.etag, type: opened.type, ...out, verified: plan.verified }
  } catch (e) {
    progress.stop()
    await saving
    if (e instanceof ObjectChanged || isCancel(e) || cancel.aborted) {
      await sink.discard().catch(() => {})
      await store?.remove(fingerprint).catch(() => {})
    } else {
      // Failed, not cancelled: staging and state stay, so a later run fetches only what is missing.
      await sink.close().catch(() => {})
    }
    throw e
  }
}

function rangeLength(plan: RangePlan, i: number): number {
  const r = plan.ranges[i]
  return r === undefined ? 0 : r.end - r.start
}

/**
 * Ranges an earlier run committed are checked against their MD5s before they count; those with
 * none to check, at least that staging still holds them (site data can be cleared under a page).
 */
async function recheck(deps: DownloadDeps, sink: DownloadSink, plan: RangePlan, done: Set<number>, signal: AbortSignal): Promise<void> {
  for (const i of [...done]) {
    const expected = plan.md5s[i]
    const range = plan.ranges[i]
    if (range === undefined) continue
    if (expected === undefined) {
      if (sink.holds !== undefined && !(await sink.holds(range.start, range.end).catch(() => false))) done.delete(i)
      continue
    }
    const got = await md5Of(deps.md5, sink.read(range.start, range.end, signal)).catch(() => undefined)
    if (got !== expected) done.delete(i)
  }
}

/**
 * Runs `work` on each index with at most `concurrency` at once. The first failure stops the
 * others and is what the caller sees, after everything in flight has settled.
 */
async function fetchAll(indices: number[], concurrency: number, signal: AbortSignal, work: (i: number, signal: AbortSignal) => Promise<void>): Promise<void> {
  const run = linkSignals(signal)
  const limit = pLimit(concurrency)
  let failed = false
  let firstError: unknown
  await Promise.all(
    indices.map((i) =>
      limit(async () => {
        if (run.signal.aborted) return
        await work(i, run.signal)
      }).catch((e: unknown) => {
        if (failed || run.signal.aborted) return
        failed = true
        firstError = e
        run.abort(e)
      }),
    ),
  )
  run.dispose()
  if (signal.aborted) throw signal.reason
  if (failed) throw firstError
}
