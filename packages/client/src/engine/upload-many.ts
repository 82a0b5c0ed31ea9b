/**
 * Many files through one uploader: each file is a full upload (resume, retries, single PUT or
 * multipart), while creates go out ahead in batches and completes coalesce into batch calls.
 * A file failing never stops the others.
 *
 * Three stages bound the work: files *ahead* (opened, hashed, created, not yet sending) are at
 * most {@link MAX_BATCH} and fewer when single-PUT keys would expire before their turn; files
 * *sending* share the PUT budget (`concurrency`); files *completing* hold no bytes and no slot
 * while they wait for the next batch call. A file's bytes are only read while it is hashed or
 * sending.
 */
import { MAX_BATCH, ValetError, isValetError } from '@valet/protocol'
import { KeyBatcher } from '../keys/key-batcher.js'
import type { KeyApi, KeyEndpoint } from '../keys/key-endpoint.js'
import { normalizeUploadOptions, type UploadSettings } from '../normalize-options.js'
import type { FileSource } from '../ports.js'
import { throwIfAborted } from './abort.js'
import { asValetError, isItem, itemsOf, nameOf, safely, type ManyFile, type ManyItem, type ManyOutcome, type ManySettings } from './many-items.js'
import { ManyTracker } from './many-progress.js'
import type { UploadProgress } from './progress-tracker.js'
import { runUpload, type EngineDeps } from './run-upload.js'
import { HeldUploads } from './held-uploads.js'
import { Slots } from './slots.js'
import type { GroupControl } from './upload-control.js'

export type { ManyFile, ManyItem, ManyOutcome, ManySettings } from './many-items.js'

export interface ManyEnv<TSource, B> {
  deps: EngineDeps<B>
  endpoint: KeyEndpoint
  prepareSource(source: TSource, options: UploadSettings): (signal: AbortSignal) => Promise<FileSource<B>>
}

/**
 * How long a finished file's complete waits for others to join its batch, ms (unless 100 wait
 * or nothing else is sending). Longer than a round trip on purpose: files finishing a few per
 * second would otherwise each get a call, and a complete waiting holds no bytes and no slot.
 */
export const COMPLETE_DELAY_MS = 100
/**
 * The longest a create waits for files still being opened and hashed to join its batch, ms:
 * creates go as soon as every file admitted has sent its own, this is the backstop.
 */
const CREATE_DELAY_MS = 200
/** File starts remembered to estimate how fast files start. */
const RECENT_STARTS = 32

/**
 * Uploads every item; resolves with one outcome per file reached, in item order. After
 * `abort()` the files in progress end `aborted` (deleted in storage) and no more start.
 */
export async function uploadMany<TSource, B>(
  env: ManyEnv<TSource, B>,
  group: GroupControl,
  items: Iterable<ManyItem<TSource> | TSource> | AsyncIterable<ManyItem<TSource> | TSource>,
  settings: ManySettings,
): Promise<ManyOutcome[]> {
  const { options, clock } = env.deps
  const slots = new Slots(settings.concurrency)
  const batcher = new KeyBatcher(
    env.endpoint,
    {
      retries: options.keyEndpoint.retries,
      retryWindow: options.keyEndpoint.retryWindow,
      backoff: options.keyEndpoint.backoff,
      clock,
      delay: COMPLETE_DELAY_MS,
      createDelay: CREATE_DELAY_MS,
      // No file sending and none about to: no other complete can come within the delay.
      completesIdle: () => slots.busy === 0 && ahead === 0,
      // Every file admitted sent its create and no more are being admitted: the batch is whole.
      createsIdle: () => preparing === 0 && !admitting,
    },
    group.cancelSignal,
  )
  /** Files admitted that have not yet sent their create, started or ended (opening, hashing, resuming). */
  let preparing = 0
  /** The loop is taking items (not waiting for room, nor done). */
  let admitting = true
  const stopAdmitting = (): void => {
    admitting = false
    batcher.poke()
  }
  const tracker = new ManyTracker(options.progressInterval, clock, settings.onProgress)
  const outcomes: ManyOutcome[] = []
  const starts: number[] = []
  let ahead = 0
  /** Our own open multipart uploads: a create refused for `maxOpenUploads` waits for one to end. */
  const held = new HeldUploads()
  let wakeAdmission: (() => void) | undefined
  const changed = (): void => {
    const wake = wakeAdmission
    wakeAdmission = undefined
    wake?.()
  }

  /**
   * Files that may wait created and not started: a batch, unless single-PUT keys (lifetime L)
   * would go stale first. At the observed start rate, what starts within L/2 keeps its key.
   */
  const aheadLimit = (): number => {
    const lifetime = batcher.keyLifetime
    if (lifetime === undefined || starts.length < 2) return MAX_BATCH
    const span = (starts[starts.length - 1] as number) - (starts[0] as number)
    if (span <= 0) return MAX_BATCH
    const perMs = (starts.length - 1) / span
    return Math.max(settings.concurrency, Math.min(MAX_BATCH, Math.floor((perMs * lifetime) / 2)))
  }

  async function runFile(index: number, input: ManyItem<TSource> | TSource): Promise<void> {
    const item = isItem<TSource>(input) ? input : undefined
    const source = (item ? item.source : input) as TSource
    const file: ManyFile = { index, name: nameOf(source, item), size: undefined }
    const control = group.join()
    let ready = false
    const markReady = (): void => {
      if (ready) return
      ready = true
      preparing--
      batcher.poke()
    }
    // This file's creates go through the batcher; sending one means it is ready.
    // Ready once queued (not before: the batch must not leave without it).
    const queued = <T>(sent: Promise<T>): Promise<T> => {
      markReady()
      return sent
    }
    let endHold: (() => void) | undefined
    const create = async <T>(send: () => Promise<T>, modeOf: (created: T) => string | undefined, signal: AbortSignal): Promise<T> => {
      for (;;) {
        const endedBefore = held.ended
        const settled = held.creating()
        let created: T
        try {
          created = await queued(send())
        } catch (e) {
          settled()
          if (!(isValetError(e) && e.code === 'too_many_uploads') || !(await held.afterRefusal(endedBefore, signal))) throw e
          continue
        }
        // The hold is taken before the create counts as settled: a sibling waiting sees it.
        if (modeOf(created) !== 'single') endHold ??= held.hold()
        settled()
        return created
      }
    }
    const api: KeyApi = {
      createTimed: (body, signal) => create(() => batcher.createTimed(body, signal), (r) => r.created.mode, signal),
      createUpload: (body, signal) => create(() => batcher.createUpload(body, signal), (r) => r.mode, signal),
      signParts: (...args) => batcher.signParts(...args),
      listParts: (...args) => batcher.listParts(...args),
      complete: (...args) => batcher.complete(...args),
      deleteUpload: (...args) => batcher.deleteUpload(...args),
    }
    let started = false
    let announced = false
    // Progress before the file starts (hashing, creating, a resume's stored parts) is held back
    // and delivered right after onFileStart, so listeners always see a start first.
    let early: UploadProgress | undefined
    const announce = (): void => {
      if (announced) return
      announced = true
      safely(() => settings.onFileStart?.({ ...file }))
      if (early !== undefined) {
        const p = early
        safely(() => settings.onFileProgress?.({ ...file }, p))
      }
    }
    const markStarted = (): void => {
      markReady()
      if (started) return
      started = true
      ahead--
      starts.push(clock.now())
      if (starts.length > RECENT_STARTS) starts.shift()
      changed()
    }
    let outcome: ManyOutcome
    try {
      const upload = normalizeUploadOptions(
        {
          ...(item?.name === undefined ? {} : { name: item.name }),
          ...(item?.type === undefined ? {} : { type: item.type }),
          ...(item?.metadata === undefined ? {} : { metadata: item.metadata }),
          onProgress: (p) => {
            tracker.fileProgress(index, p.bytesSent)
            if (announced) safely(() => settings.onFileProgress?.({ ...file }, p))
            else early = p
          },
        },
        options,
      )
      const open = env.prepareSource(source, upload)
      const result = await runUpload(
        { ...env.deps, api },
        control,
        (s) => {
          throwIfAborted(s)
          return open(s)
        },
        upload,
        {
          opened: ({ name, size }) => {
            file.name = name
            file.size = size
            tracker.opened(size)
          },
          start: async (_plan, missing, signal) => {
            // A file sends up to its own part concurrency, counted against the shared budget.
            const weight = Math.min(missing, upload.concurrency, slots.capacity)
            try {
              await slots.acquire(weight, signal)
            } finally {
              markStarted()
            }
            announce()
            return {
              concurrency: weight,
              release: () => {
                slots.release(weight)
                batcher.poke()
              },
            }
          },
        },
      )
      control.settle('complete')
      outcome = { index, name: file.name, ok: true, result }
    } catch (e) {
      control.settle('failed')
      outcome = { index, name: file.name, ok: false, error: asValetError(e) }
    } finally {
      markStarted()
      group.leave(control)
      endHold?.()
    }
    announce()
    outcomes[index] = outcome
    tracker.fileDone(index, outcome.ok, file.size)
    safely(() => settings.onFileDone?.(outcome))
    batcher.poke()
  }

  // An array says how many files there are at once; other iterables when they end.
  if (Array.isArray(items)) tracker.total(items.length)
  const running: Promise<void>[] = []
  let count = 0
  let failure: unknown
  const iterator = itemsOf(items)
  try {
    for (;;) {
      // Full: wait until half the files ahead have started, then refill, so creates go out in
      // batches of half a window, not one per file started.
      let low = aheadLimit()
      while ((group.status === 'paused' || ahead >= low) && group.status !== 'aborted') {
        low = Math.max(1, Math.floor(aheadLimit() / 2))
        stopAdmitting()
        await new Promise<void>((resolve) => {
          wakeAdmission = resolve
          if (group.status === 'paused') void group.untilRunning().then(resolve)
        })
      }
      if (group.status === 'aborted') break
      admitting = true
      const next = await iterator.next()
      if (next.done === true) {
        tracker.total(count)
        break
      }
      ahead++
      preparing++
      running.push(runFile(count++, next.value))
    }
  } catch (e) {
    failure = e
  }
  stopAdmitting()
  if (group.status === 'aborted') void iterator.return(undefined).catch(() => {})
  // Abort wakes the admission loop through the group; also any file waiting on `changed`.
  await Promise.all(running)
  tracker.finish()
  if (failure !== undefined) {
    throw new ValetError('invalid_source', `reading the items to upload failed: ${(failure as Error)?.message ?? String(failure)}`, { cause: failure })
  }
  return outcomes
}
