/**
 * Starts an upload on the server, or continues one from resume state: the server's part list is
 * the source of truth, and a listed part is kept only if its size and etag match our bytes.
 * Every create carries a `requestId`, saved (with resume on) before the create is sent, so a
 * create whose answer was lost is sent again as the same create, never as a second upload.
 */
import { ValetError, isValetError, partSizeOf, type CreateUploadRequest, type PartPlan, type SignedPart } from '@valet/protocol'
import type { KeyApi } from '../keys/key-endpoint.js'
import type { SignTiming } from '../keys/key-timing.js'
import { storedPartMatches } from './part-etag.js'
import type { PartReader } from './part-reader.js'
import { isPendingCreate, newRequestId, pendingCreate, type PendingCreate } from '../resume/pending-create.js'
import type { Clock, ResumeState, ResumeStore } from '../ports.js'

export interface Session {
  uploadId: string
  token: string
  plan: PartPlan
  /** Verified parts storage already holds (resume): part number → etag. */
  stored: Map<number, string>
  /** A single-PUT upload: one PUT of the whole object (part 1), which storage may refuse as already written. */
  single: boolean
  /** Keys the create answer carried (single-PUT), with the timing of that call. */
  keys?: { parts: SignedPart[]; timing: SignTiming; /** The whole file's (part 1's) MD5 they are bound to. */ md5: string }
}

export interface SessionContext<B> {
  api: KeyApi
  request: CreateUploadRequest
  clock: Clock
  makeReader(plan: PartPlan): PartReader<B>
  /** Both set, or resume is off for this upload. */
  store?: ResumeStore
  fingerprint?: string
}

/** An open session and the reader of its parts. */
export interface Opened<B> {
  session: Session
  reader: PartReader<B>
}

/** The server's answers when an upload it once knew can't be continued: start over. */
export const GONE = new Set(['token_expired', 'token_invalid', 'upload_not_found', 'not_found'])
/** State this close to its token's expiry isn't worth a round trip. */
const TOKEN_SLACK_MS = 60_000

function resumeFailed(what: string, cause: unknown): ValetError {
  return new ValetError('resume_failed', `the resume store failed to ${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
}

function usableState(state: ResumeState | undefined, size: number, now: number): state is ResumeState {
  if (state === undefined || state.version !== 1 || state.pending === true || state.size !== size) return false
  if (!(Date.parse(state.expiresAt) - TOKEN_SLACK_MS > now)) return false
  return state.partSize > 0 && state.partCount === Math.ceil(size / state.partSize)
}

export async function openSession<B>(ctx: SessionContext<B>, signal: AbortSignal): Promise<Opened<B>> {
  const { store, fingerprint } = ctx
  if (store !== undefined && fingerprint !== undefined) {
    let state: ResumeState | undefined
    try {
      state = await store.get(fingerprint)
    } catch (e) {
      throw resumeFailed('read', e)
    }
    if (state?.pending === true) {
      // A create whose answer never got saved: send it again as the same create. A stale or
      // foreign one is simply replaced by a fresh pending create.
      if (usablePending(state, ctx.request.size, ctx.clock.now())) return create(ctx, signal, state)
    } else if (state !== undefined) {
      const usable = usableState(state, ctx.request.size, ctx.clock.now())
      // Killed while completing: the parts are all stored; send the same complete again.
      const completing = usable ? completingParts(state) : undefined
      if (completing !== undefined) return sessionOf(ctx, state, completing)
      const resumed = usable ? await resume(ctx, state, signal) : undefined
      if (resumed !== undefined) return resumed
      // Not continued, yet maybe open in storage with a working token: a token close to its
      // expiry by this machine's clock (which may be fast), or a file whose size changed.
      // Abort it rather than leave it for a lifecycle rule.
      if (!usable && state.uploadId !== '' && state.token !== '') await abandonUpload(ctx.api, state)
      await store.remove(fingerprint).catch(() => {})
    }
  }
  return create(ctx, signal, undefined)
}

/** The parts of a complete that was sent but never answered, when they form the whole plan. */
function completingParts(state: ResumeState): Map<number, string> | undefined {
  const list = state.completing
  if (!Array.isArray(list) || list.length !== state.partCount) return undefined
  const parts = new Map<number, string>()
  for (const p of list) {
    if (!Number.isSafeInteger(p?.partNumber) || p.partNumber < 1 || p.partNumber > state.partCount || typeof p.etag !== 'string' || p.etag === '') return undefined
    parts.set(p.partNumber, p.etag)
  }
  return parts.size === state.partCount ? parts : undefined
}

function sessionOf<B>(ctx: SessionContext<B>, state: ResumeState, stored: Map<number, string>): Opened<B> {
  const plan: PartPlan = { size: state.size, partSize: state.partSize, partCount: state.partCount }
  const session: Session = { uploadId: state.uploadId, token: state.token, plan, stored, single: state.mode === 'single' && plan.partCount === 1 }
  return { session, reader: ctx.makeReader(plan) }
}

function usablePending(state: ResumeState, size: number, now: number): state is PendingCreate {
  return isPendingCreate(state) && state.size === size && Date.parse(state.expiresAt) > now
}

async function resume<B>(ctx: SessionContext<B>, state: ResumeState, signal: AbortSignal): Promise<Opened<B> | undefined> {
  let listed
  try {
    listed = await ctx.api.listParts(state.uploadId, state.token, signal)
  } catch (e) {
    if (isValetError(e) && GONE.has(e.code)) return undefined
    throw e
  }
  const opened = sessionOf(ctx, state, new Map())
  const { plan } = opened.session
  for (const part of listed) {
    if (part.partNumber > plan.partCount || part.size !== partSizeOf(plan, part.partNumber)) continue
    // Hashing what is already uploaded costs a read, and catches a file edited in place.
    if (storedPartMatches(part.etag, await opened.reader.md5(part.partNumber, signal))) opened.session.stored.set(part.partNumber, part.etag)
  }
  return opened
}

/** Create failed without starting anything: the server refused it (4xx), or it never reached a Valet server. */
function refused(error: unknown): boolean {
  if (isValetError(error) && error.context.reached === false) return true
  const status = isValetError(error) ? error.context.status : undefined
  return typeof status === 'number' && status >= 400 && status < 500
}

/** Aborted while create was in flight: storage may have started the upload anyway. */
const ABANDON_TIMEOUT_MS = 10_000

async function create<B>(ctx: SessionContext<B>, signal: AbortSignal, pending: PendingCreate | undefined): Promise<Opened<B>> {
  const requestId = pending?.requestId ?? newRequestId()
  if (pending === undefined && ctx.store !== undefined && ctx.fingerprint !== undefined) {
    try {
      await ctx.store.set(ctx.fingerprint, pendingCreate(requestId, ctx.request.size, ctx.clock.now()))
    } catch (e) {
      throw resumeFailed('save', e) // nothing exists on the server yet
    }
  }
  const request: CreateUploadRequest = { ...ctx.request, requestId }
  signal.throwIfAborted()
  let created, timing
  try {
    ;({ created, timing } = await ctx.api.createTimed(request, signal))
  } catch (e) {
    if (signal.aborted) await abandonCreate(ctx.api, request)
    // Refused (4xx): the server stopped before storage, so there is nothing to come back for.
    else if (ctx.store !== undefined && ctx.fingerprint !== undefined && refused(e)) await ctx.store.remove(ctx.fingerprint).catch(() => {})
    throw e
  }
  if (created.partCount !== Math.ceil(request.size / created.partSize)) {
    throw new ValetError('server_error', `the server planned ${created.partCount} parts of ${created.partSize} bytes for ${request.size} bytes`, {
      context: { partSize: created.partSize, partCount: created.partCount, size: request.size },
    })
  }
  const plan: PartPlan = { size: request.size, partSize: created.partSize, partCount: created.partCount }
  // `single` only for the plan it can mean: one part, and the MD5 we sent (the key is bound to it).
  const single = created.mode === 'single' && plan.partCount === 1 && request.md5 !== undefined
  if (ctx.store !== undefined && ctx.fingerprint !== undefined) {
    const state: ResumeState = {
      version: 1,
      uploadId: created.uploadId,
      key: created.key,
      token: created.token,
      partSize: created.partSize,
      partCount: created.partCount,
      size: request.size,
      createdAt: new Date(ctx.clock.now()).toISOString(),
      expiresAt: created.expiresAt,
      ...(single ? { mode: 'single' as const } : {}),
    }
    try {
      await ctx.store.set(ctx.fingerprint, state)
    } catch (e) {
      // Nobody could ever continue or clean up this upload: abort it in storage now.
      await ctx.api.deleteUpload(created.uploadId, created.token, AbortSignal.timeout(10_000)).catch(() => {})
      throw resumeFailed('save', e)
    }
  }
  const session: Session = { uploadId: created.uploadId, token: created.token, plan, stored: new Map(), single }
  if (single && created.parts !== undefined && request.md5 !== undefined) {
    session.keys = { parts: created.parts.filter((p) => p.partNumber === 1), timing, md5: request.md5 }
  }
  return { session, reader: ctx.makeReader(plan) }
}

/** DELETEs a saved upload the client will not continue. Best effort, bounded: the server says 401 at once for a dead token. */
async function abandonUpload(api: KeyApi, state: ResumeState): Promise<void> {
  await api.deleteUpload(state.uploadId, state.token, AbortSignal.timeout(ABANDON_TIMEOUT_MS)).catch(() => {})
}

/**
 * Removes the upload an aborted create may have started: the same create again (same
 * `requestId`: that upload, or a new empty one) and a DELETE. Best effort, bounded.
 */
async function abandonCreate(api: KeyApi, request: CreateUploadRequest): Promise<void> {
  const signal = AbortSignal.timeout(ABANDON_TIMEOUT_MS)
  try {
    const created = await api.createUpload(request, signal)
    await api.deleteUpload(created.uploadId, created.token, signal)
  } catch {
    // The server or network is gone too: a lifecycle rule is the last resort.
  }
}
