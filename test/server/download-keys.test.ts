/**
 * Downloads on real storage (issue 16, server side): a Valet upload opened for reading tells the
 * client how to verify every byte, and the read keys fetch exactly the ranges asked, straight
 * from storage; once the object is replaced, an old key reads nothing of the new one.
 */
import { createHash, randomUUID } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { KiB, MiB, type SignedRange } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { azure } from '@valet/server/azure'
import { generate, keyEndpoint, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { uploadThrough } from '../support/upload-through.js'
import { manifestName } from '../../packages/server/src/part-manifest.js'

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')
const canRead = ({ principal, key }: { principal: { id: string }; key: string }) => key.startsWith(`${principalPrefix(principal.id)}/`)

async function get(range: SignedRange): Promise<Response> {
  return fetch(range.url, { method: range.method, headers: range.headers })
}

describe.each(storageCases)('downloads on %o', (makeCase) => {
  const storage = makeCase()
  const setup = () => {
    const { call } = keyEndpoint(storage.provider(), { canRead })
    const as = `dl-${randomUUID().slice(0, 8)}`
    const open = (key: string) => call('POST', '/downloads', { key }, { 'x-user': as })
    const sign = (token: string, ranges: { start: number; end: number }[]) => call('POST', '/downloads/ranges', { token, ranges }, { 'x-user': as })
    return { call, as, open, sign }
  }

  it('a multipart upload: part MD5s to verify with, and ranged reads that reassemble the bytes', async () => {
    const { call, as, open, sign } = setup()
    const bytes = generate(11 * MiB + 123, 41)
    const up = await uploadThrough(call, as, bytes, { partSize: 5 * MiB })
    const opened = await open(up.key)
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    const d = opened.body
    expect(d).toMatchObject({ key: up.key, size: bytes.byteLength, etag: up.etag, type: 'application/octet-stream' })
    const slices = [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB, 10 * MiB), bytes.subarray(10 * MiB)]
    expect(d.integrity).toEqual({
      kind: 'parts',
      partSize: 5 * MiB,
      parts: slices.map((s, i) => ({ partNumber: i + 1, size: s.byteLength, md5: md5(s) })),
    })
    // Ranges that do not line up with the parts, the last one short.
    const step = 3 * MiB
    const ranges = Array.from({ length: Math.ceil(bytes.byteLength / step) }, (_, i) => ({ start: i * step, end: Math.min((i + 1) * step, bytes.byteLength) }))
    const signed = await sign(d.token, ranges)
    expect(signed.status, JSON.stringify(signed.body)).toBe(200)
    const out = new Uint8Array(bytes.byteLength)
    for (const range of signed.body.ranges as SignedRange[]) {
      const res = await get(range)
      expect(res.status, await res.clone().text()).toBe(206)
      const body = new Uint8Array(await res.arrayBuffer())
      expect(body.byteLength).toBe(range.end - range.start)
      out.set(body, range.start)
    }
    expect(sha256(out)).toBe(sha256(bytes))
    // And every part checks against the MD5 the open answered.
    for (const p of d.integrity.parts) expect(md5(out.subarray((p.partNumber - 1) * 5 * MiB, (p.partNumber - 1) * 5 * MiB + p.size))).toBe(p.md5)
  })

  it('a single-PUT object: the MD5 storage recorded', async () => {
    // Single PUT is opt-in on Azure (AzureOptions.singlePut).
    const { accountName, accountKey, container, endpoint } = inject('azurite')
    const provider = storage.name === 'azurite' ? azure({ accountName, accountKey, container, endpoint, singlePut: true }) : storage.provider()
    const { call } = keyEndpoint(provider, { canRead })
    const as = `dl-${randomUUID().slice(0, 8)}`
    const open = (key: string) => call('POST', '/downloads', { key }, { 'x-user': as })
    const sign = (token: string, ranges: { start: number; end: number }[]) => call('POST', '/downloads/ranges', { token, ranges }, { 'x-user': as })
    const bytes = generate(200 * KiB, 42)
    const up = await uploadThrough(call, as, bytes, { md5: true })
    expect(up.mode).toBe('single')
    const d = (await open(up.key)).body
    expect(d.integrity).toEqual({ kind: 'md5', md5: md5(bytes) })
    const [range] = (await sign(d.token, [{ start: 0, end: bytes.byteLength }])).body.ranges
    const res = await get(range)
    expect(res.status).toBeLessThan(300)
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes))
  })

  it('without its manifest: Azure reads the part MD5s from the committed block ids; S3 has only the ETag', async () => {
    const provider = storage.provider()
    const { call } = keyEndpoint(provider, { canRead })
    const as = `dl-${randomUUID().slice(0, 8)}`
    const bytes = generate(6 * MiB, 46)
    const up = await uploadThrough(call, as, bytes, { partSize: 5 * MiB })
    await provider.records.remove(await manifestName(up.key))
    const d = (await call('POST', '/downloads', { key: up.key }, { 'x-user': as })).body
    if (storage.name === 'azurite') {
      const slices = [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB)]
      expect(d.integrity).toEqual({ kind: 'parts', partSize: 5 * MiB, parts: slices.map((s, i) => ({ partNumber: i + 1, size: s.byteLength, md5: md5(s) })) })
    } else {
      expect(d.integrity).toEqual({ kind: 'none' })
    }
  })

  it('an object replaced after open: the old keys answer 412, never the new bytes', async () => {
    const { call, as, open, sign } = setup()
    const bytes = generate(64 * KiB, 43)
    const up = await uploadThrough(call, as, bytes, { partSize: 5 * MiB })
    const d = (await open(up.key)).body
    const [before] = (await sign(d.token, [{ start: 0, end: 1000 }])).body.ranges
    expect((await get(before)).status).toBe(206)
    // Valet never overwrites; the storage's own credentials can.
    await storage.write(up.key, generate(64 * KiB, 44))
    expect((await get(before)).status).toBe(412)
    // Keys signed later from the same token are bound to the old version too.
    const [after] = (await sign(d.token, [{ start: 0, end: 1000 }])).body.ranges
    expect((await get(after)).status).toBe(412)
    // Opened again: the new version, with no manifest for it.
    const again = (await open(up.key)).body
    expect(again.etag).not.toBe(d.etag)
    expect(again.integrity.kind).not.toBe('parts')
  })

  it('refuses another principal, a missing object, and Valet\'s own records', async () => {
    const { call, as, open } = setup()
    const up = await uploadThrough(call, as, generate(10 * KiB, 45), { partSize: 5 * MiB })
    const other = await call('POST', '/downloads', { key: up.key }, { 'x-user': `${as}-other` })
    expect(other.status).toBe(403)
    const missing = await open(`${principalPrefix(as)}/${randomUUID()}/none.bin`)
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('object_not_found')
    const { call: anyone } = keyEndpoint(storage.provider(), { canRead: () => true })
    const record = await anyone('POST', '/downloads', { key: '.valet/probes/conditional-put.json' })
    expect(record.status).toBe(403)
  })
})
