import { parseCreateUploadRequest, planParts, ValetError, type CreateUploadResponse } from '@valet/protocol'
import { json, readJson } from './http.js'
import { checkObjectKey } from './object-key.js'
import type { RouteContext } from './context.js'

/** `POST /uploads`: policy checks, then a multipart upload in storage and its token. */
export async function createUpload(ctx: Omit<RouteContext, 'uploadId'>): Promise<Response> {
  const { options, principal } = ctx
  const body = parseCreateUploadRequest(await readJson(ctx.request))
  if (body.size > options.maxFileSize) {
    throw new ValetError('file_too_large', `file is ${body.size} bytes; the limit is ${options.maxFileSize}`, {
      context: { size: body.size, maxFileSize: options.maxFileSize },
    })
  }
  if (options.allowedTypes && !options.allowedTypes(body.type)) {
    throw new ValetError('type_not_allowed', `type "${body.type}" is not allowed`, { context: { type: body.type } })
  }
  const plan = planParts(body.size, body.partSize ?? options.partSize, options.storage.limits)
  const metadata = body.metadata ?? {}
  const key = await options.objectKey({ principal, file: { name: body.name, size: body.size, type: body.type, metadata } })
  const problem = checkObjectKey(key)
  if (problem) throw new Error(`objectKey() returned an unusable key: it ${problem}`)

  const { uploadId } = await options.storage.create({ key, type: body.type, metadata, signal: ctx.request.signal })
  const exp = Math.floor(Date.now() / 1000) + options.tokenTtl
  const token = await ctx.signer.sign({
    uploadId,
    key,
    principal: principal.id,
    size: plan.size,
    partSize: plan.partSize,
    partCount: plan.partCount,
    type: body.type,
    metadata,
    exp,
  })
  const response: CreateUploadResponse = {
    uploadId,
    key,
    partSize: plan.partSize,
    partCount: plan.partCount,
    token,
    expiresAt: new Date(exp * 1000).toISOString(),
  }
  return json(response, 201)
}
