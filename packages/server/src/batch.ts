/**
 * `POST /uploads/batch` and `POST /uploads/batch/complete`: many creates or completes in one
 * call, each item handled exactly as its own route would (rate limit, policy, token, storage)
 * and answered with the status and body that route would have sent. One item failing never
 * fails the others.
 */
import {
  parseCompleteBatchItem,
  parseCompleteBatchRequest,
  parseCreateBatchRequest,
  parseCreateUploadRequest,
  ValetError,
  type BatchResult,
  type CompleteBatchResponse,
  type CreateBatchResponse,
  type ErrorBody,
} from '@valet/protocol'
import { completeOne } from './complete-upload.js'
import { OpenUploadQuota, createOne } from './create-upload.js'
import type { RouteContext } from './context.js'
import { errorResponse, json, readJson } from './http.js'
import { principalPrefix, type Principal } from './object-key.js'
import type { Operation } from './rate-limit.js'

/** Items in progress at once: a batch must not turn into a burst of 100 storage calls. */
const ITEM_PARALLELISM = 8

async function rateLimited<P extends Principal>(ctx: RouteContext<P>, operation: Operation): Promise<void> {
  const wait = await ctx.options.rateLimit?.({ principal: ctx.principal, operation, request: ctx.request })
  if (typeof wait === 'number' && wait > 0) {
    throw new ValetError('rate_limited', `too many ${operation} requests; retry in ${Math.ceil(wait)} s`, { context: { retryAfter: wait } })
  }
}

/** Runs `handle` on every item, at most {@link ITEM_PARALLELISM} at once, each outcome in its slot. */
async function eachItem<P extends Principal, T>(
  ctx: RouteContext<P>,
  items: unknown[],
  success: number,
  handle: (item: unknown, i: number) => Promise<T>,
): Promise<BatchResult<T>[]> {
  const results: BatchResult<T>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = { status: success, body: await handle(items[i], i) }
      } catch (error) {
        // The item's answer is the one its own route would give, unexpected errors included
        // (logged through onError, details not sent).
        const response = errorResponse(error, (e) => ctx.options.onError(e, ctx.request))
        results[i] = { status: response.status, body: (await response.json()) as ErrorBody }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(ITEM_PARALLELISM, items.length) }, worker))
  return results
}

/** `POST /uploads/batch`: up to 100 creates; `maxOpenUploads` is counted once for the call. */
export async function createBatch<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const { uploads } = parseCreateBatchRequest(await readJson(ctx.request))
  const quota = new OpenUploadQuota(ctx.options, principalPrefix(ctx.principal.id), ctx.request)
  const results = await eachItem(ctx, uploads, 201, async (item) => {
    const body = parseCreateUploadRequest(item)
    await rateLimited(ctx, 'create')
    return createOne(ctx, body, quota)
  })
  const response: CreateBatchResponse = { uploads: results, serverTime: new Date(ctx.options.now()).toISOString() }
  return json(response)
}

/** `POST /uploads/batch/complete`: up to 100 completes, each with its own upload id and token. */
export async function completeBatch<P extends Principal>(ctx: RouteContext<P>): Promise<Response> {
  const { uploads } = parseCompleteBatchRequest(await readJson(ctx.request))
  const results = await eachItem(ctx, uploads, 200, async (item, i) => {
    const { uploadId, ...body } = parseCompleteBatchItem(item, i)
    await rateLimited(ctx, 'complete')
    return completeOne({ ...ctx, uploadId }, body)
  })
  const response: CompleteBatchResponse = { uploads: results }
  return json(response)
}
