/**
 * A complete whose answer is lost is retried by the client. On AWS the multipart upload is gone
 * by then (NoSuchUpload); Swift still lists it. The wrapper below gives Swift AWS's behaviour so
 * the server's recovery (HEAD + multipart ETag of the claimed parts) runs against real objects.
 */
import { describe, expect, it } from 'vitest'
import { MiB, ValetError, type SignedPart } from '@valet/protocol'
import type { StorageProvider } from '@valet/server'
import { generate, keyEndpoint, md5base64 } from '../support/key-endpoint.js'
import { swiftCase } from '../support/storages.js'

function awsLike(provider: StorageProvider): StorageProvider {
  const completed = new Set<string>()
  return {
    ...provider,
    async listParts(ref) {
      if (completed.has(ref.uploadId)) throw new ValetError('upload_not_found', 'NoSuchUpload')
      return provider.listParts(ref)
    },
    async complete(input) {
      const done = await provider.complete(input)
      completed.add(input.uploadId)
      return done
    },
  }
}

describe('retried complete', () => {
  it('answers again for the same parts without running onComplete again, and refuses other parts', async () => {
    let onCompleteRuns = 0
    const { call } = keyEndpoint(awsLike(swiftCase().provider()), { onComplete: () => ({ run: ++onCompleteRuns }) })
    const data = generate(6 * MiB, 41)
    const up = (await call('POST', '/uploads', { name: 'r.bin', size: data.length, partSize: 5 * MiB })).body
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)]
    const id = encodeURIComponent(up.uploadId)
    const keys: SignedPart[] = (
      await call('POST', `/uploads/${id}/parts`, { token: up.token, parts: parts.map((p, i) => ({ partNumber: i + 1, size: p.length, md5: md5base64(p) })) })
    ).body.parts
    const etags = await Promise.all(
      keys.map(async (k, i) => ({ partNumber: k.partNumber, etag: (await fetch(k.url, { method: 'PUT', headers: k.headers, body: parts[i] as Uint8Array<ArrayBuffer> })).headers.get('etag')! })),
    )
    const first = await call('POST', `/uploads/${id}/complete`, { token: up.token, parts: etags })
    expect(first.status).toBe(200)
    const again = await call('POST', `/uploads/${id}/complete`, { token: up.token, parts: etags })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    expect(first.body.result).toEqual({ run: 1 })
    expect(onCompleteRuns).toBe(1)
    // Other parts name another object than the one committed: refused, nothing committed again.
    const swapped = await call('POST', `/uploads/${id}/complete`, { token: up.token, parts: [etags[0], { partNumber: 2, etag: etags[0]!.etag }] })
    expect([swapped.status, swapped.body.error.code]).toEqual([409, 'object_exists'])
    expect(onCompleteRuns).toBe(1)
  })
})
