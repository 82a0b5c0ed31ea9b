/**
 * One upload from source to completed object: open, fingerprint, create or resume, transfer
 * (pausable), complete; on abort, delete in storage and forget the resume state.
 */
import { ValetError, isValetError, parseCreateUploadRequest, partSizeOf, type CreateUploadRequest, type PartPlan } from '@valet/protocol'
import { isCancel, isPause } from './abort.js'
import { fingerprint as fingerprintOf } from '../resume/fingerprint.js'
import { guessType } from '../sources/guess-type.js'
import { KeyCache } from '../keys/key-cache.js'
import type { KeyApi } from '../keys/key-endpoint.js'
import { invalidUploadOption, type NormalizedOptions, type UploadSettings } from '../normalize-options.js'
import { GONE, openSession, type Session } from './open-session.js'
import { PartReader } from './part-reader.js'
import type { Clock, FileSource, Hasher, ResumeStore, Transport } from '../ports.js'
import { ProgressTracker } from './progress-tracker.js'
import { transferParts, type TransferContext } from './transfer-parts.js'
import type { UploadControl } from './upload-control.js'

/** What `upload.done` resolves with. */
export interface UploadResult {
  /** Object key in storage. */
  key: string
  size: number
  /** The object's ETag as storage reports it. */
  etag: string
  location: string
  uploadId: string
  /** What the server's `onComplete` returned (your database row, say). */
  result?: unknown
  /** Parts storage already held when this run started (resumed), not sent again. */
  partsResumed: number
}

export interface EngineDeps<B> {
  options: NormalizedOptions
  api: KeyApi
  transport: Transport<B>
  hasher: Hasher<B>
  clock: Clock
}

/**
 * Largest file whose create carries its whole MD5 (asking for a single-PUT upload), unless the
 * uploader's `partSize` is larger. The client can't know the server's plan: 8 MiB is the
 * server's default part size, so a default server plans these files as one part. A larger file
 * the server would still send whole just goes multipart; a smaller server part size makes a
 * file up to this size multipart too, having cost one extra read of at most 8 MiB. Streams
 * never ask: their bytes can be read once, and a multipart answer would need them in parts.
 */
export const SINGLE_PUT_MAX = 8 * 1024 * 1024

/** What `uploadMany` adds around one file's upload. */
export interface RunHooks {
  /** The source is open and its create request checked: the name and size the upload has. */
  opened?(file: { name: string; size: number }): void
  /**
   * Called once the upload is created (or resumed) and before its parts go out: resolves when
   * the file may start, with how many PUTs it may have in flight and what to call when its
   * transfer is over (complete is not counted).
   */
  start?(plan: PartPlan, missing: number, signal: AbortSignal): Promise<{ concurrency: number; release(): void }>
}

// Two uploads of one file in one process must not share one server upload.
const activeFingerprints = new Set<string>()

function createRequest<B>(source: FileSource<B>, upload: UploadSettings, partSize: number | undefined): CreateUploadRequest {
  const name = upload.name ?? source.name
  if (name === '') throw invalidUploadOption('name', 'is required: this source has no file name')
  const request: CreateUploadRequest = { name, size: source.size, type: upload.type ?? (source.type || guessType(name)) }
  const lastModified = upload.lastModified ?? source.lastModified
  if (lastModified !== undefined) request.lastModified = lastModified
  if (upload.metadata !== undefined) request.metadata = upload.metadata
  if (partSize !== undefined) request.partSize = partSize
  try {
    parseCreateUploadRequest(request) // the server's own rules, checked before any traffic
  } catch (e) {
    if (isValetError(e)) throw invalidUploadOption(String(e.context.field ?? 'options'), e.message.replace(/^\S+ /, ''))
    throw e
  }
  return request
}

export async function runUpload<B>(
  deps: EngineDeps<B>,
  control: UploadControl,
  openSource: (signal: AbortSignal) => Promise<FileSource<B>>,
  upload: UploadSettings,
  hooks: RunHooks = {},
): Promise<UploadResult> {
  const { options, api, clock, hasher } = deps
  const cancel = control.cancelSignal
  const source = await openSource(cancel)
  let session: Session | undefined
  let reader: PartReader<B> | undefined
  let fingerprint: string | undefined
  const progress = new ProgressTracker(source.size, options.progressInterval, clock, upload.onProgress)
  try {
    if (upload.size !== undefined && upload.size !== source.size) throw invalidUploadOption('size', `is ${upload.size} but the source has ${source.size} bytes`)
    if (source.size === 0) throw new ValetError('invalid_source', 'empty files cannot be uploaded in parts')
    const request = createRequest(source, upload, options.partSize)
    hooks.opened?.({ name: request.name, size: request.size })
    progress.announce()
    const store = options.resumeStore
    if (store !== undefined) fingerprint = await fingerprintOf(options.endpoint, source, hasher, cancel)
    if (fingerprint !== undefined && activeFingerprints.has(fingerprint)) fingerprint = undefined
    if (fingerprint !== undefined) activeFingerprints.add(fingerprint)
    // A file that fits one part is hashed whole before create, to ask for a single PUT; the
    // reader keeps that MD5 as part 1's, so a one-part plan never reads the file twice for it.
    const whole = wholeFileReader(source, hasher, upload.concurrency, Math.max(SINGLE_PUT_MAX, options.partSize ?? 0))
    if (whole !== undefined) request.md5 = await whole.md5(1, cancel)
    const opened = await openSession(
      {
        api,
        request,
        clock,
        makeReader: (plan) => (whole !== undefined && plan.partCount === 1 ? whole : new PartReader(source, plan, hasher, upload.concurrency)),
        ...(store !== undefined && fingerprint !== undefined ? { store, fingerprint } : {}),
      },
      cancel,
    )
    session = opened.session
    reader = opened.reader
    const etags = new Map(session.stored)
    progress.setPartsTotal(session.plan.partCount, session.plan.partSize)
    for (const n of etags.keys()) progress.partAlreadyStored(n, partSizeOf(session.plan, n))
    let concurrency = upload.concurrency
    let slot: { concurrency: number; release(): void } | undefined
    if (hooks.start !== undefined && etags.size < session.plan.partCount) {
      slot = await hooks.start(session.plan, session.plan.partCount - etags.size, cancel)
      concurrency = slot.concurrency
    }
    try {
      await transferUntilDone(transferContext(deps, concurrency, session, reader, progress, etags), control, etags)
    } finally {
      slot?.release()
    }
    progress.setPhase('completing')
    const resume = store !== undefined && fingerprint !== undefined ? { store, fingerprint } : undefined
    const result = await complete(api, session, etags, source.size, cancel, resume)
    result.partsResumed = session.stored.size
    if (store !== undefined && fingerprint !== undefined) await store.remove(fingerprint).catch(() => {})
    progress.finish('complete')
    return result
  } catch (e) {
    progress.stop()
    if (cancel.aborted || isCancel(e)) {
      await cleanUpAborted(deps, session, fingerprint)
      throw cancel.aborted ? cancel.reason : e
    }
    throw e
  } finally {
    if (fingerprint !== undefined) activeFingerprints.delete(fingerprint)
    await (reader ?? source).close().catch(() => {})
  }
}

function wholeFileReader<B>(source: FileSource<B>, hasher: Hasher<B>, concurrency: number, max: number): PartReader<B> | undefined {
  if (source.access !== 'random' || source.size > max) return undefined
  return new PartReader(source, { size: source.size, partSize: source.size, partCount: 1 }, hasher, concurrency)
}

function transferContext<B>(
  deps: EngineDeps<B>,
  concurrency: number,
  session: Session,
  reader: PartReader<B>,
  progress: ProgressTracker,
  etags: Map<number, string>,
): TransferContext<B> {
  const { options, api, clock } = deps
  const { plan } = session
  let acknowledged = 0
  for (const n of etags.keys()) acknowledged += partSizeOf(plan, n)
  const notStarted = new Set<number>()
  const keys = new KeyCache({
    concurrency,
    clock,
    sign: (parts, signal) => api.signParts(session.uploadId, session.token, parts, signal),
    md5: (n, signal) => reader.md5(n, signal),
    partSize: (n) => partSizeOf(plan, n),
    upcoming: () => notStarted,
    canReadAhead: (n) => reader.canReadAhead(n),
  })
  if (session.keys !== undefined) {
    const { md5, timing } = session.keys
    keys.seed(session.keys.parts, (n) => (n === 1 ? md5 : undefined), timing)
  }
  return {
    single: session.single,
    plan, keys, reader, progress, clock,
    transport: deps.transport,
    ...options.parts,
    concurrency,
    notStarted,
    onPartStored: (n, etag) => {
      etags.set(n, etag)
      acknowledged += partSizeOf(plan, n)
    },
    acknowledged: () => acknowledged,
  }
}

/** Transfers the missing parts; a pause ends a run, `resume()` starts the next with what's left. */
async function transferUntilDone<B>(ctx: TransferContext<B>, control: UploadControl, etags: Map<number, string>): Promise<void> {
  for (;;) {
    const remaining: number[] = []
    for (let n = 1; n <= ctx.plan.partCount; n++) if (!etags.has(n)) remaining.push(n)
    if (remaining.length === 0) return
    if (control.status === 'paused') ctx.progress.setPhase('paused')
    await control.untilRunning()
    const run = control.transferSignal()
    ctx.progress.setPhase('uploading')
    try {
      await transferParts(ctx, remaining, run.signal)
    } catch (e) {
      if (!isPause(e) || control.cancelSignal.aborted) throw e
      ctx.progress.setPhase('paused')
    } finally {
      run.dispose()
    }
  }
}

async function complete(
  api: KeyApi,
  session: Session,
  etags: Map<number, string>,
  size: number,
  signal: AbortSignal,
  resume: { store: ResumeStore; fingerprint: string } | undefined,
): Promise<UploadResult> {
  const parts = []
  for (let n = 1; n <= session.plan.partCount; n++) {
    const etag = etags.get(n)
    // Unreachable by construction; checked because completing with a hole loses data silently.
    if (etag === undefined) throw new ValetError('server_error', `part ${n} has no verified etag; refusing to complete`)
    parts.push({ partNumber: n, etag })
  }
  if (resume !== undefined) {
    // Once complete is sent the token may be spent: a run after a crash must send this same
    // complete again, not list parts.
    const saved = await resume.store.get(resume.fingerprint).catch(() => undefined)
    if (saved !== undefined && saved.uploadId === session.uploadId && saved.completing === undefined) {
      await resume.store.set(resume.fingerprint, { ...saved, completing: parts }).catch(() => {})
    }
  }
  let done
  try {
    done = await api.complete(session.uploadId, session.token, parts, signal)
  } catch (e) {
    // The upload is gone (aborted, expired) or can never commit (its key is taken): nothing to
    // come back for.
    if (resume !== undefined && isValetError(e) && (GONE.has(e.code) || e.code === 'object_exists')) await resume.store.remove(resume.fingerprint).catch(() => {})
    throw e
  }
  if (done.size !== size) {
    throw new ValetError('size_mismatch', `storage holds ${done.size} bytes, the source has ${size}`, { context: { size: done.size } })
  }
  const result: UploadResult = { key: done.key, size: done.size, etag: done.etag, location: done.location, uploadId: session.uploadId, partsResumed: 0 }
  if (done.result !== undefined) result.result = done.result
  return result
}

/** Delay of the second DELETE after an abort. */
const ABORT_REPEAT_MS = 1_500

async function cleanUpAborted<B>(deps: EngineDeps<B>, session: Session | undefined, fingerprint: string | undefined): Promise<void> {
  const store = deps.options.resumeStore
  // Aborted while resuming (listing or re-hashing stored parts): no session is open yet, but the
  // saved state names the upload, and forgetting it without a DELETE would orphan it. A pending
  // create names none (an aborted create cleans up after itself, in openSession).
  const stored = session === undefined && store !== undefined && fingerprint !== undefined ? await store.get(fingerprint).catch(() => undefined) : undefined
  const saved = session ?? (stored?.pending === true ? undefined : stored)
  // The upload's own signal is aborted: cleanup gets its own, bounded one.
  if (saved !== undefined) {
    const { uploadId, token } = saved
    await deps.api.deleteUpload(uploadId, token, AbortSignal.timeout(10_000)).catch(() => {})
    // A part whose body already reached storage can still be stored after that DELETE (S3 and
    // Azure both document the race): abort once more when such late writes have landed.
    const again = setTimeout(() => void deps.api.deleteUpload(uploadId, token, AbortSignal.timeout(10_000)).catch(() => {}), ABORT_REPEAT_MS)
    ;(again as { unref?: () => void }).unref?.()
  }
  if (store !== undefined && fingerprint !== undefined) await store.remove(fingerprint).catch(() => {})
}
