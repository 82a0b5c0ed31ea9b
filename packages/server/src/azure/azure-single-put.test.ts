import { createHash, randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { BlobSASPermissions } from '@azure/storage-blob'
import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import type { SignObjectInput } from '../storage.js'
import { azure } from './index.js'
import { AZURE_SERVICE_VERSION } from './options.js'
import { asOperation, sendWithKey, useAzurite } from './use-azurite.js'

// Single-PUT keys on a real Azurite (strict mode): what a key writes, and everything else a
// holder could try with it.
const azurite = useAzurite('single')
// Single PUT is opt-in on Azure (AzureOptions.singlePut).
const provider = () => azure({ ...azurite().options, singlePut: true })
const blob = (name: string) => azurite().container.getBlockBlobClient(name)
const md5 = (s: string | Uint8Array) => createHash('md5').update(s).digest('base64')
const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isValetError(e) ? e.code : `other: ${String(e)}`))

const BODY = 'the whole file, in one PUT'
const PLAN = { type: 'image/png', disposition: 'attachment', metadata: { album: 'summer', user_id: '7' } }

function input(patch: Partial<SignObjectInput> = {}): SignObjectInput {
  const uploadId = randomUUID()
  return {
    key: `carol/${uploadId}/photo one.png`,
    owner: 'carol',
    uploadId,
    size: BODY.length,
    md5: md5(BODY),
    ...PLAN,
    expiresAt: new Date(Date.now() + 120_000),
    unique: true,
    ...patch,
  }
}

/** A signed single-PUT key for a fresh key name. */
async function signed(patch: Partial<SignObjectInput> = {}) {
  const p = provider()
  const plan = input(patch)
  const key = await p.singlePut!.sign(plan)
  if (!key) throw new Error('azure() did not sign a single PUT')
  return { p, plan, key }
}

describe('singlePut.sign', () => {
  it('signs a create-only SAS for exactly the object’s blob, with the Put Blob headers', async () => {
    const expiresAt = new Date('2030-01-02T03:04:05.678Z')
    const { plan, key } = await signed({ expiresAt })
    const url = new URL(key.url)
    expect(`${url.origin}${url.pathname}`).toBe(blob(plan.key).url)
    const q = url.searchParams
    expect(q.get('sp')).toBe('c')
    expect(q.get('sr')).toBe('b')
    expect(q.get('sv')).toBe(AZURE_SERVICE_VERSION)
    expect(q.get('spr')).toBe('https,http')
    expect(q.get('se')).toBe('2030-01-02T03:04:05Z')
    expect(q.has('st')).toBe(false)
    expect(q.has('comp')).toBe(false)
    expect(key).toMatchObject({ partNumber: 1, method: 'PUT', expiresAt: '2030-01-02T03:04:05.000Z' })
    expect(key.headers).toEqual({
      'x-ms-blob-type': 'BlockBlob',
      'Content-MD5': plan.md5,
      'x-ms-blob-content-type': 'image/png',
      'x-ms-blob-content-disposition': 'attachment',
      'x-ms-meta-album': 'summer',
      'x-ms-meta-user_id': '7',
      'x-ms-version': AZURE_SERVICE_VERSION,
      'If-None-Match': '*',
    })
    const plain = await provider().singlePut!.sign(input({ disposition: undefined, metadata: {} }))
    expect(Object.keys(plain!.headers).sort()).toEqual(['Content-MD5', 'If-None-Match', 'x-ms-blob-content-type', 'x-ms-blob-type', 'x-ms-version'])
  })

  it('refuses what the core should never ask for, before signing', async () => {
    const sign = (patch: Partial<SignObjectInput>) => code(provider().singlePut!.sign(input(patch)))
    expect(await sign({ size: 0 })).toBe('invalid_part')
    expect(await sign({ size: 4001 * 1024 * 1024 })).toBe('invalid_part')
    expect(await sign({ md5: 'not an md5' })).toBe('invalid_part')
    expect(await sign({ key: '.valet/receipts/x' })).toBe('internal_error')
    expect(await sign({ expiresAt: new Date(Number.NaN) })).toBe('internal_error')
  })
})

describe('a single-PUT key', () => {
  it('writes the object once: stat shows its size, MD5, type, disposition and metadata', async () => {
    const { p, plan, key } = await signed()
    expect(await p.stat({ key: plan.key })).toBeUndefined()
    expect((await sendWithKey(key, BODY)).status).toBe(201)
    const stored = await p.stat({ key: plan.key })
    expect(stored).toEqual({
      etag: (await blob(plan.key).getProperties()).etag,
      size: BODY.length,
      location: blob(plan.key).url,
      md5: md5(BODY),
      ...PLAN,
    })
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe(BODY)
    expect(await p.uploadState({ uploadId: plan.uploadId, key: plan.key, owner: plan.owner })).toBe('completed')
  })

  it('never overwrites: a second PUT with the same key, same bytes or others, is refused', async () => {
    const { p, plan, key } = await signed()
    expect((await sendWithKey(key, BODY)).status).toBe(201)
    const before = await p.stat({ key: plan.key })
    expect((await sendWithKey(key, BODY)).status).toBe(403)
    const other = 'OTHER BYTES, same length....'.slice(0, BODY.length)
    expect((await sendWithKey(key, other, { 'Content-MD5': md5(other) })).status).toBe(403)
    expect((await sendWithKey(key, other, { 'Content-MD5': md5(other), 'If-None-Match': '*' })).status).toBe(403)
    expect(await p.stat({ key: plan.key })).toEqual(before)
  })

  it('lets exactly one of concurrent PUTs sent as signed win (If-None-Match: *), whatever their bytes', async () => {
    const { p, plan, key } = await signed()
    const bodies = ['aaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbb', BODY, 'cccccccccccccccccccccccccc']
    const results = await Promise.all(bodies.map((b) => sendWithKey(key, b, { 'Content-MD5': md5(b) })))
    const winners = results.flatMap((r, i) => (r.status === 201 ? [bodies[i]] : []))
    expect(winners).toHaveLength(1)
    expect(results.filter((r) => r.status !== 201).map((r) => r.status)).toEqual([409, 409, 409])
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe(winners[0])
    expect((await p.stat({ key: plan.key }))?.md5).toBe(md5(winners[0]!))
  })

  it('measured: a PUT started before the object landed replaces it on Azurite, unless it carries If-None-Match', async () => {
    // A holder can drop the header, and Azurite checks `c` when the request arrives. If this starts
    // failing, Azurite checks it with the write: update the residual in docs/security.md.
    const { p, plan, key } = await signed()
    const unconditional = Object.fromEntries(Object.entries(key.headers).filter(([h]) => h !== 'If-None-Match'))
    const late = 'LATE BYTES, written after!!'.slice(0, BODY.length)
    const url = new URL(key.url)
    const slowPut = (headers: Record<string, string>) => {
      const req = request(url, { method: 'PUT', headers: { ...headers, 'Content-MD5': md5(late), 'Content-Length': String(late.length) } })
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)))
        req.on('error', reject)
      })
      req.write(late.slice(0, 4)) // headers and the first bytes are in: the request has arrived
      return { finish: () => (req.end(late.slice(4)), answered) }
    }
    const asSigned = slowPut(key.headers)
    const holder = slowPut(unconditional)
    await new Promise((r) => setTimeout(r, 200))
    expect((await sendWithKey(key, BODY)).status).toBe(201)
    const verified = await p.stat({ key: plan.key }) // what a complete would check now
    expect(verified?.md5).toBe(md5(BODY))
    expect(await asSigned.finish()).toBe(409) // If-None-Match: * is decided with the write
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe(BODY)
    expect(await holder.finish()).toBe(201)
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe(late)
    expect((await p.stat({ key: plan.key }))?.etag).not.toBe(verified?.etag)
  })

  it('is signed the same way for a key that is not unique to the upload: `c` cannot overwrite either way', async () => {
    const { key } = await signed({ unique: false })
    expect(new URL(key.url).searchParams.get('sp')).toBe('c')
  })

  it('also refuses to write over an object that was there before it was signed', async () => {
    const { p, plan, key } = await signed()
    await blob(plan.key).upload('someone else', 12)
    expect((await sendWithKey(key, BODY)).status).toBe(403)
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe('someone else')
    expect((await p.stat({ key: plan.key }))?.md5).not.toBe(plan.md5)
  })

  it('refuses other bytes: a body that does not match Content-MD5 writes nothing', async () => {
    const { p, plan, key } = await signed()
    const res = await sendWithKey(key, 'other bytes of another length')
    expect(res.status).toBe(400)
    expect(await p.stat({ key: plan.key })).toBeUndefined()
  })

  it('cannot read, list, delete, lease or change the object, nor write another name', async () => {
    const { plan, key } = await signed()
    expect((await sendWithKey(key, BODY)).status).toBe(201)
    const { container } = azurite()
    const as = (query: Record<string, string>, path?: string) => asOperation(key.url, query, path)
    const refused = [
      await fetch(key.url),
      await fetch(key.url, { method: 'HEAD' }),
      await fetch(key.url, { method: 'DELETE' }),
      await fetch(as({ restype: 'container', comp: 'list' }, new URL(container.url).pathname)),
      await fetch(as({ comp: 'properties' }), { method: 'PUT', headers: { 'x-ms-blob-content-type': 'text/html' } }),
      await fetch(as({ comp: 'metadata' }), { method: 'PUT', headers: { 'x-ms-meta-evil': 'yes' } }),
      await fetch(as({ comp: 'lease' }), { method: 'PUT', headers: { 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1' } }),
      await fetch(as({ comp: 'block', blockid: btoa('block-0') }), { method: 'PUT', body: 'x' }),
      await fetch(as({ comp: 'blocklist' }), { method: 'PUT', body: '<?xml version="1.0" encoding="utf-8"?><BlockList></BlockList>' }),
      await sendWithKey({ ...key, url: as({}, new URL(blob(`carol/${randomUUID()}/other.png`).url).pathname) }, BODY),
      await sendWithKey({ ...key, url: as({}, new URL(blob(`.valet/receipts/${plan.uploadId}.json`).url).pathname) }, BODY),
    ]
    for (const [i, res] of refused.entries()) {
      if (!res.bodyUsed) await res.arrayBuffer()
      expect([i, res.status]).toEqual([i, 403])
    }
    expect((await blob(plan.key).downloadToBuffer()).toString()).toBe(BODY)
    expect((await blob(plan.key).getProperties()).contentType).toBe(PLAN.type)
  })

  it('is refused once expired', async () => {
    const { p, plan, key } = await signed({ expiresAt: new Date(Date.now() - 1000) })
    expect((await sendWithKey(key, BODY)).status).toBe(403)
    expect(await p.stat({ key: plan.key })).toBeUndefined()
  })
})

describe('stat after a single-PUT key was used otherwise', () => {
  // What complete compares with the token must reflect what the holder did instead.
  it('reports the headers the holder chose instead of the signed ones', async () => {
    const { p, plan, key } = await signed()
    const headers = { 'x-ms-blob-content-type': 'text/html', 'x-ms-blob-content-disposition': 'inline', 'x-ms-meta-album': 'winter' }
    expect((await sendWithKey(key, BODY, headers)).status).toBe(201)
    expect(await p.stat({ key: plan.key })).toMatchObject({ type: 'text/html', disposition: 'inline', metadata: { album: 'winter', user_id: '7' }, md5: md5(BODY) })
  })

  it('reports an md5 that matches nothing for anything but a plain block blob from Put Blob', async () => {
    const forged = await signed()
    const source = blob(`carol/${randomUUID()}/source.bin`)
    const other = 'OTHER BYTES, same length....'.slice(0, BODY.length)
    await source.upload(other, other.length)
    await source.setHTTPHeaders({ blobContentMD5: Buffer.from(forged.plan.md5, 'base64'), blobContentType: PLAN.type, blobContentDisposition: PLAN.disposition })
    await source.setMetadata(PLAN.metadata)
    const sourceUrl = await source.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 60_000) })
    const copy = await fetch(forged.key.url, { method: 'PUT', headers: { 'x-ms-copy-source': sourceUrl, 'x-ms-version': AZURE_SERVICE_VERSION } })
    expect(copy.status).toBe(202) // Copy Blob into a new blob: allowed by `c`
    const copied = await forged.p.stat({ key: forged.plan.key })
    expect(copied).toMatchObject({ size: BODY.length, type: PLAN.type, disposition: PLAN.disposition, metadata: PLAN.metadata })
    expect(copied?.md5).toBe('') // Content-MD5 is the forged property, not these bytes': matches nothing

    // A source without Content-MD5: no md5 at all would let the core trust the size alone.
    const bare = await signed()
    await source.setHTTPHeaders({ blobContentType: PLAN.type }) // clears Content-MD5
    expect((await fetch(bare.key.url, { method: 'PUT', headers: { 'x-ms-copy-source': sourceUrl, 'x-ms-version': AZURE_SERVICE_VERSION } })).status).toBe(202)
    expect((await bare.p.stat({ key: bare.plan.key }))?.md5).toBe('')

    const page = await signed()
    const pageBlob = await fetch(page.key.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'PageBlob', 'x-ms-blob-content-length': '512', 'x-ms-version': AZURE_SERVICE_VERSION } })
    expect(pageBlob.status).toBe(201)
    expect((await page.p.stat({ key: page.plan.key }))?.md5).toBe('')

    const extras: Record<string, string>[] = [{ 'x-ms-blob-content-encoding': 'gzip' }, { 'x-ms-blob-cache-control': 'max-age=31536000' }, { 'x-ms-access-tier': 'Archive' }]
    for (const extra of extras) {
      const s = await signed()
      expect((await sendWithKey(s.key, BODY, extra)).status).toBe(201)
      expect((await s.p.stat({ key: s.plan.key }))?.md5).toBe('')
    }
  })
})

describe('singlePut.remove', () => {
  it('deletes the object it saw (with snapshots a holder took), and leaves one that changed', async () => {
    const { p, plan, key } = await signed()
    expect((await sendWithKey(key, BODY)).status).toBe(201)
    const snapshot = await fetch(asOperation(key.url, { comp: 'snapshot' }), { method: 'PUT' })
    expect(snapshot.status).toBe(201) // `c` allows Snapshot Blob while the key lives
    const seen = (await p.stat({ key: plan.key }))!
    await blob(plan.key).setMetadata({ changed: 'yes' }) // a new ETag: not the object we saw
    await p.singlePut!.remove({ key: plan.key, etag: seen.etag })
    expect(await blob(plan.key).exists()).toBe(true)
    const now = (await p.stat({ key: plan.key }))!
    await p.singlePut!.remove({ key: plan.key, etag: now.etag })
    expect(await blob(plan.key).exists()).toBe(false)
    const left = []
    for await (const item of azurite().container.listBlobsFlat({ prefix: plan.key, includeSnapshots: true })) left.push(item)
    expect(left).toEqual([])
    await p.singlePut!.remove({ key: plan.key, etag: now.etag }) // gone already: success
  })

  it('needs an etag', async () => {
    expect(await code(provider().singlePut!.remove({ key: 'carol/x/y.png', etag: '' }))).toBe('internal_error')
  })
})
