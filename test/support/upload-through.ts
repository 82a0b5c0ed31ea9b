/**
 * Puts an object in storage the way a client does: through the key endpoint (create, keys, one
 * PUT per part with fetch, complete), so that downloads find what a Valet upload leaves behind.
 */
import { expect } from 'vitest'
import { MiB, type SignedPart } from '@valet/protocol'
import { md5base64 } from './key-endpoint.js'

type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }> // eslint-disable-line @typescript-eslint/no-explicit-any

async function send(key: SignedPart, bytes: Uint8Array): Promise<string> {
  const res = await fetch(key.url, { method: 'PUT', headers: key.headers, body: bytes as Uint8Array<ArrayBuffer> })
  expect(res.status, await res.clone().text()).toBeLessThan(300)
  // Azure's Put Block answers no ETag: the part's etag is then its base64 MD5.
  return res.headers.get('etag') ?? md5base64(bytes)
}

/**
 * Uploads `bytes` as principal `as`; `md5` asks for a single PUT where the provider offers one.
 * Returns the object key and the upload's answers.
 */
export async function uploadThrough(call: Call, as: string, bytes: Uint8Array, options: { name?: string; partSize?: number; md5?: boolean } = {}) {
  const headers = { 'x-user': as }
  const create = await call(
    'POST',
    '/uploads',
    { name: options.name ?? 'data.bin', size: bytes.byteLength, type: 'application/octet-stream', partSize: options.partSize ?? 5 * MiB, ...(options.md5 ? { md5: md5base64(bytes) } : {}) },
    headers,
  )
  expect(create.status, JSON.stringify(create.body)).toBe(201)
  const up = create.body
  const id = encodeURIComponent(up.uploadId)
  const slice = (n: number) => bytes.subarray((n - 1) * up.partSize, Math.min(n * up.partSize, bytes.byteLength))
  let parts: { partNumber: number; etag: string }[]
  if (up.mode === 'single') {
    parts = [{ partNumber: 1, etag: await send(up.parts[0], bytes) }]
  } else {
    const toSign = Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, size: slice(i + 1).byteLength, md5: md5base64(slice(i + 1)) }))
    const signed = await call('POST', `/uploads/${id}/parts`, { token: up.token, parts: toSign }, headers)
    expect(signed.status, JSON.stringify(signed.body)).toBe(200)
    parts = await Promise.all(signed.body.parts.map(async (key: SignedPart) => ({ partNumber: key.partNumber, etag: await send(key, slice(key.partNumber)) })))
  }
  const done = await call('POST', `/uploads/${id}/complete`, { token: up.token, parts }, headers)
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  return { key: up.key as string, mode: (up.mode ?? 'multipart') as 'single' | 'multipart', partSize: up.partSize as number, etag: done.body.etag as string }
}
