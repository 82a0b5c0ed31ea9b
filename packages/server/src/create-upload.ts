import { isValetError, parseCreateUploadRequest, planParts, ValetError, type CreateUploadRequest, type CreateUploadResponse } from '@valet/protocol'
import { isActiveContent } from './content-types.js'
import { json, readJson } from './http.js'
import { checkObjectKey, principalPrefix, type Principal } from './object-key.js'
import type { RouteContext } from './context.js'
import type { NormalizedOptions } from './options.js'
import type { StorageLimits, StorageProvider } from './storage.js'
import { SINGLE_PREFIX, signSingle, singleResponse } from './single-put.js'
import type { UploadClaim } from './token.js'

/**
 * The one upload a key keeps when several are open there; the rest, `ours` included if it lost,
 * are aborted. The oldest wins, so an upload already handed to a client is never displaced by a
 * later duplicate; ties (stores with whole-second times) go to the smaller id, so every replica
 * picks the same one.
 */
async function keepOne(storage: StorageProvider, key: string, owner: string, signal: AbortSignal, ours?: string): Promise<string | undefined> {
  const found = (await storage.findUploads!({ key, signal })).sort(
    (a, b) => a.initiated.getTime() - b.initiated.getTime() || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0),
  )
  const kept = found[0]?.uploadId
  const losers = found.slice(1).map((u) => u.uploadId)
  // Not listed yet (a store with lagging listings) but beaten all the same.
  if (ours !== undefined && kept !== undefined && kept !== ours && !losers.includes(ours)) losers.push(ours)
  // Best effort: an extra left open is what would have happened without a requestId.
  await Promise.all(losers.map((uploadId) => storage.abort({ uploadId, key, owner, signal }).catch(() => {})))
  return kept
}

/** Metadata a provider would refuse (Swift: values over 256 bytes, more than 90 keys) is a 400 here, not a 502 later. */
function checkMetadata(metadata: Record<string, string>, limits: StorageLimits, provider: string): void {
  const entries = Object.entries(metadata)
  if (entries.length > limits.maxMetadataCount) {
    throw new ValetError('bad_request', `metadata has ${entries.length} keys; the ${provider} provider stores at most ${limits.maxMetadataCount}`, {
      context: { field: 'metadata', count: entries.length, max: limits.maxMetadataCount },
    })
  }
  const bytes = entries.reduce((sum, [name, value]) => sum + name.length + value.length, 0)
  if (bytes > limits.maxMetadataBytes) {
    throw new ValetError('bad_request', `metadata is ${bytes} bytes; the ${provider} provider stores at most ${limits.maxMetadataBytes}`, {
      context: { field: 'metadata', size: bytes, max: limits.maxMetadataBytes },
    })
  }
  for (const [name, value] of entries) {
    if (value.length > limits.maxMetadataValueBytes) {
      throw new ValetError('bad_request', `metadata.${name} is ${value.length} bytes; the ${provider} provider stores values of at most ${limits.maxMetadataValueBytes}`, {
        context: { field: `metadata.${name}`, size: value.length, max: limits.maxMetadataValueBytes },
      })
    }
  }
}

function checkPolicy<P extends Principal>(body: CreateUploadRequest, options: NormalizedOptions<P>): void {
  if (body.size > options.maxFileSize) {
    throw new ValetError('file_too_large', `file is ${body.size} bytes; the limit is ${options.maxFileSize}`, {
      context: { size: body.size, maxFileSize: options.maxFileSize },
    })
  }
  if (options.allowedTypes && !options.allowedTypes(body.type)) {
    const hint = isActiveContent(body.type) ? ' (script-capable types pass allowedTypes only when listed exactly)' : ''
    throw new ValetError('type_not_allowed', `type "${body.type}" is not allowed${hint}`, { context: { type: body.type } })
  }
  checkMetadata(body.metadata ?? {}, options.storage.limits, options.storage.name)
}

/** A storage refusal of a listing (S3 `s3:ListBucketMultipartUploads` missing): 403. */
export function listingRefused(e: unknown): e is ValetError {
  return isValetError(e) && e.code === 'storage_error' && e.context?.status === 403
}

/**
 * `maxOpenUploads` for one call: storage counts the principal's open uploads once (a batch asks
 * once, not per item), and each multipart create the call makes takes one more. Credentials that
 * may not list cost the cap, not the upload: `onError` says so.
 */
export class OpenUploadQuota<P extends Principal> {
  #open: Promise<number> | undefined

  constructor(
    private readonly options: NormalizedOptions<P>,
    private readonly owner: string,
    private readonly request: Request,
  ) {}

  async take(): Promise<void> {
    const { maxOpenUploads } = this.options
    if (maxOpenUploads === Infinity) return
    // Each take chains on the last, so concurrent items of a batch never see the same count.
    const before = (this.#open ??= this.count())
    const after = before.then((open) => {
      if (open >= maxOpenUploads) {
        throw new ValetError('too_many_uploads', `${open} uploads are already open for this user (the limit is ${maxOpenUploads}): finish or abort some first`, {
          context: { open, maxOpenUploads },
        })
      }
      return open + 1
    })
    // A refused take opens nothing.
    this.#open = after.catch(() => before)
    await after
  }

  private async count(): Promise<number> {
    try {
      return await this.options.storage.countOpenUploads({ owner: this.owner, limit: this.options.maxOpenUploads, signal: this.request.signal })
    } catch (e) {
      if (!listingRefused(e)) throw e
      this.options.onError(
        new ValetError('storage_error', `cannot count open uploads (${e.message}): maxOpenUploads is not enforced; grant the list permission (S3: s3:ListBucketMultipartUploads)`, { cause: e }),
        this.request,
      )
      return -Infinity
    }
  }
}

/**
 * `POST /uploads`: policy checks, then an upload in storage and its token.
 *
 * With a `requestId` (and a key built from `uniqueId`, and a provider that can list uploads),
 * create is idempotent: the same create sent again finds the upload its earlier attempt started
 * (whose answer was lost: a killed process, a timeout) and answers with a fresh token for it.
 */
export async function createUpload<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const body = parseCreateUploadRequest(await readJson(ctx.request))
  const quota = new OpenUploadQuota(ctx.options, principalPrefix(ctx.principal.id), ctx.request)
  return json(await createOne(ctx, body, quota), 201)
}

/** One create, parsed: what `POST /uploads` answers, and each item of a batch. */
export async function createOne<P extends Principal>(ctx: RouteContext<P>, body: CreateUploadRequest, quota: OpenUploadQuota<P>): Promise<CreateUploadResponse> {
  const { options, principal } = ctx
  checkPolicy(body, options)
  const plan = planParts(body.size, body.partSize ?? options.partSize, options.storage.limits)
  const metadata = body.metadata ?? {}
  const file = { name: body.name, size: body.size, type: body.type, metadata }
  const owner = principalPrefix(principal.id)
  const uniqueId = await ctx.uniqueIds.make({ principal: principal.id, requestId: body.requestId, file })
  const key = await options.objectKey({ principal, file, uniqueId, prefix: owner })
  const problem = checkObjectKey(key)
  if (problem) throw new Error(`objectKey() returned an unusable key: it ${problem}`)
  const disposition = options.activeContent === 'attachment' && isActiveContent(body.type) ? 'attachment' : undefined
  const exp = Math.floor(options.now() / 1000) + options.tokenTtl
  const claim: UploadClaim = {
    uploadId: '',
    key,
    principal: principal.id,
    size: plan.size,
    partSize: plan.partSize,
    partCount: plan.partCount,
    type: body.type,
    ...(disposition === undefined ? {} : { disposition }),
    metadata,
    exp,
  }
  const answer = async (c: UploadClaim): Promise<CreateUploadResponse> => ({
    uploadId: c.uploadId,
    key,
    partSize: plan.partSize,
    partCount: plan.partCount,
    token: await ctx.signer.sign(c),
    expiresAt: new Date(exp * 1000).toISOString(),
  })

  if (body.md5 !== undefined && plan.partCount === 1 && options.storage.singlePut) {
    // Nothing in storage until the PUT lands: no lookup, no count, no create.
    const single = { ...claim, uploadId: `${SINGLE_PREFIX}${uniqueId}`, md5: body.md5, unique: key.includes(uniqueId) }
    const now = options.now()
    const part = await signSingle(ctx, single, { uploadId: single.uploadId, key, owner, signal: ctx.request.signal }, now)
    if (part) return singleResponse(await answer(single), part, now)
  }

  const { storage } = options
  const signal = ctx.request.signal
  // Only a key that contains the HMAC-derived id is this principal's own: a custom objectKey
  // that ignores uniqueId could share a key with another principal, whose upload must never be
  // handed out here.
  const keyed = body.requestId !== undefined && key.includes(uniqueId)
  const idempotent = keyed && storage.findUploads !== undefined
  // Credentials without the right to list uploads (S3 `s3:ListBucketMultipartUploads`) cost the
  // orphan protection, not the upload: say so through onError, once per create, and go on.
  let lookUp = idempotent
  const find = async (ours?: string): Promise<string | undefined> => {
    if (!lookUp) return ours
    try {
      return (await keepOne(storage, key, owner, signal, ours)) ?? ours
    } catch (e) {
      if (!listingRefused(e)) throw e
      lookUp = false
      options.onError(
        new ValetError('storage_error', `cannot list unfinished uploads (${e.message}): creates are not idempotent, and an interrupted one can leave an empty multipart upload; grant the list permission (S3: s3:ListBucketMultipartUploads)`, { cause: e }),
        ctx.request,
      )
      return ours
    }
  }
  let uploadId = await find()
  if (uploadId === undefined && keyed && (await storage.stat({ key, signal })) !== undefined) {
    // The same create after its upload completed: that requestId is spent, and objects are
    // write-once. A new upload needs a new requestId.
    throw new ValetError('object_exists', 'this requestId already completed an upload (objects are never overwritten): send a new requestId for a new upload', {
      context: { key },
    })
  }
  if (uploadId === undefined) {
    await quota.take()
    uploadId = (await storage.create({ key, owner, uniqueId, type: body.type, disposition, metadata, signal })).uploadId
    // An earlier attempt still in flight at storage may have created one meanwhile: settle on
    // one now rather than leave the other open.
    uploadId = (await find(uploadId)) ?? uploadId
  }
  return answer({ ...claim, uploadId })
}
