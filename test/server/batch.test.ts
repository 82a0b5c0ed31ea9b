/**
 * Batch create and complete on real storage: every item is checked and carried on its own, and
 * one refused by policy, one too large and one failing at storage leave the others complete.
 */
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KiB, MiB, ValetError, type SignedPart } from '@valet/protocol'
import type { StorageProvider } from '@valet/server'
import { generate, keyEndpoint, md5base64, sha256 } from '../support/key-endpoint.js'
import { expectStored, storageCases } from '../support/storages.js'

/** The real provider, except that creating `fails-at-storage` fails as a refusing store would. */
function failingFor(provider: StorageProvider, name: string): StorageProvider {
  return {
    ...provider,
    records: provider.records,
    limits: provider.limits,
    name: provider.name,
    async create(input) {
      if (input.key.endsWith(`/${name}`)) throw new ValetError('storage_error', 'storage refused CreateMultipartUpload (503 SlowDown)', { context: { status: 503 } })
      return provider.create(input)
    },
  }
}

describe.each(storageCases)('batches on %o', (makeCase) => {
  const storage = makeCase()

  it('mixed items: the good ones complete, each bad one fails alone with its own error', async () => {
    const { call } = keyEndpoint(failingFor(storage.provider(), 'fails-at-storage'), { maxFileSize: 20 * MiB, allowedTypes: ['text/*', 'application/octet-stream'] })
    const as = { 'x-user': `batch-${randomUUID().slice(0, 8)}` }
    const small = generate(100 * KiB, 21)
    const big = generate(6 * MiB, 22)
    const created = await call(
      'POST',
      '/uploads/batch',
      {
        uploads: [
          { name: 'small.txt', size: small.byteLength, type: 'text/plain', md5: md5base64(small) },
          { name: 'big.bin', size: big.byteLength, type: '', partSize: 5 * MiB },
          { name: 'page.html', size: 10, type: 'application/x-msdownload' },
          { name: 'huge.bin', size: 21 * MiB, type: '' },
          { name: 'fails-at-storage', size: 6 * MiB, type: '' },
        ],
      },
      as,
    )
    expect(created.status).toBe(200)
    const [s, b, refused, huge, failing] = created.body.uploads
    expect([s.status, b.status, refused.status, huge.status, failing.status]).toEqual([201, 201, 415, 413, 502])
    expect(failing.body.error.code).toBe('storage_error')

    // Bytes go straight to storage with the keys: the small file's came with create.
    const sendKey = async (key: SignedPart, body: Uint8Array) => {
      const res = await fetch(key.url, { method: 'PUT', headers: key.headers, body: body as Uint8Array<ArrayBuffer> })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return res.headers.get('etag') ?? md5base64(body)
    }
    const single = s.body
    const smallEtag = single.mode === 'single' ? await sendKey(single.parts[0], small) : undefined
    const parts = [big.subarray(0, 5 * MiB), big.subarray(5 * MiB)]
    const signed = await call('POST', `/uploads/${encodeURIComponent(b.body.uploadId)}/parts`, { token: b.body.token, parts: parts.map((p, i) => ({ partNumber: i + 1, size: p.byteLength, md5: md5base64(p) })) }, as)
    const bigEtags = await Promise.all(parts.map((p, i) => sendKey(signed.body.parts[i], p)))

    const completed = await call(
      'POST',
      '/uploads/batch/complete',
      {
        uploads: [
          { uploadId: single.uploadId, token: single.token, parts: [{ partNumber: 1, etag: smallEtag ?? 'not-sent' }] },
          { uploadId: b.body.uploadId, token: b.body.token, parts: bigEtags.map((etag, i) => ({ partNumber: i + 1, etag })) },
          { uploadId: b.body.uploadId, token: single.token, parts: [{ partNumber: 1, etag: 'x' }] },
        ],
      },
      as,
    )
    expect(completed.status).toBe(200)
    const [cs, cb, wrong] = completed.body.uploads
    expect([cs.status, cb.status, wrong.status], JSON.stringify(completed.body)).toEqual([single.mode === 'single' ? 200 : 409, 200, 403])
    if (single.mode === 'single') await expectStored(storage, single.key, { size: small.byteLength, sha256: sha256(small) })
    await expectStored(storage, b.body.key, { size: big.byteLength, sha256: sha256(big) })
  })
})
