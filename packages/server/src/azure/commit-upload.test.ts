import { createHash, randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { commitUpload, expectedBlockIds } from './commit-upload.js'
import { azure } from './index.js'
import { asOperation, partKey, putPart, useAzurite } from './use-azurite.js'

// Complete on a real Azurite (strict mode), with parts sent through genuine keys.
const azurite = useAzurite('commit')
const provider = () => azure(azurite().options)
const blob = (name: string) => azurite().container.getBlockBlobClient(name)
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isValetError(e) ? e.code : `other: ${String(e)}`))

const PARTS = ['part one, ', 'part two, ', 'the end']
const PLAN = { type: 'image/png', disposition: 'attachment', metadata: { album: 'summer', user_id: '7' } }

/** An open upload with every part of PARTS sent; what the core hands to complete. */
async function uploaded(owner = 'bob') {
  const p = provider()
  const ref = { uploadId: randomUUID(), key: `${owner}/${randomUUID()}/photo.png`, owner }
  await p.create({ key: ref.key, owner, uniqueId: ref.uploadId, ...PLAN })
  const parts = []
  for (const [i, text] of PARTS.entries()) {
    const sent = await putPart(p, ref, i + 1, text)
    expect(sent.status).toBe(201)
    parts.push({ partNumber: i + 1, etag: sent.etag })
  }
  return { p, ref, parts, input: { ...ref, parts, ...PLAN } }
}
const staging = (ref: { owner: string; uploadId: string }) => blob(`.valet/staging/${ref.owner}/${ref.uploadId}`)

describe('complete', () => {
  it('stores exactly the parts at the key, with type, disposition and metadata, and cleans up staging', async () => {
    const { p, ref, parts, input } = await uploaded()
    const stored = await p.complete(input)
    const bytes = await blob(ref.key).downloadToBuffer()
    expect(sha256(bytes)).toBe(sha256(Buffer.from(PARTS.join(''))))
    expect(stored).toEqual({
      etag: (await blob(ref.key).getProperties()).etag,
      size: PARTS.join('').length,
      location: blob(ref.key).url,
      ...PLAN,
    })
    const committed = await blob(ref.key).getBlockList('committed')
    expect(committed.committedBlocks?.map((b) => b.name)).toEqual(expectedBlockIds(ref.uploadId, parts))
    expect(await staging(ref).exists()).toBe(false)
    expect(await p.uploadState(ref)).toBe('completed')
    // A copy of the staging blob: no Content-MD5, so no md5 (single-PUT complete never sees it).
    expect('md5' in stored).toBe(false)
    expect(await p.stat({ key: ref.key })).toEqual(stored)
  })

  it('answers a retried complete with the same object, without writing again', async () => {
    const { p, ref, parts, input } = await uploaded()
    const first = await p.complete(input)
    const { copyId } = await blob(ref.key).getProperties()
    expect(await p.findCommitted({ ...ref, parts })).toEqual(first)
    expect(await p.complete(input)).toEqual(first)
    expect((await blob(ref.key).getProperties()).copyId).toBe(copyId)
  })

  it('lets concurrent completes agree on one object, copied once', async () => {
    const { p, ref, input } = await uploaded()
    const results = await Promise.all([p.complete(input), p.complete(input), p.complete(input), p.complete(input)])
    for (const r of results) expect(r).toEqual(results[0])
    const props = await blob(ref.key).getProperties()
    expect(props.etag).toBe(results[0]!.etag)
    expect(props.copyStatus).toBe('success')
    expect(await staging(ref).exists()).toBe(false)
  })

  it('never overwrites another object at the key: object_exists, and the object is untouched', async () => {
    const { p, ref, parts, input } = await uploaded()
    await blob(ref.key).upload('not yours', 9, { blobHTTPHeaders: { blobContentType: 'text/plain' } })
    expect(await code(p.findCommitted({ ...ref, parts }))).toBe('object_exists')
    expect(await code(p.complete(input))).toBe('object_exists')
    expect((await blob(ref.key).downloadToBuffer()).toString()).toBe('not yours')
    expect(await p.uploadState(ref)).toBe('completed')
  })

  it('finds nothing before complete, and refuses an object committed with other parts', async () => {
    const { p, ref, parts, input } = await uploaded()
    expect(await p.findCommitted({ ...ref, parts })).toBeUndefined()
    await p.complete(input)
    const other = [{ ...parts[0]!, etag: createHash('md5').update('other').digest('base64') }, ...parts.slice(1)]
    expect(await code(p.findCommitted({ ...ref, parts: other }))).toBe('object_exists')
    expect(await code(p.findCommitted({ ...ref, parts: [{ partNumber: 1, etag: '"0x8DC"' }] }))).toBe('object_exists')
  })

  it('breaks a lease a key holder took on the staging blob', async () => {
    const { p, ref, input } = await uploaded()
    const lease = await fetch(asOperation(await partKey(p, ref), { comp: 'lease' }), {
      method: 'PUT',
      headers: { 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1' },
    })
    expect(lease.status).toBe(201)
    await p.complete(input)
    expect(sha256(await blob(ref.key).downloadToBuffer())).toBe(sha256(Buffer.from(PARTS.join(''))))
  })

  it('finishes a complete that crashed between the staging commit and the copy', async () => {
    const { p, ref, parts, input } = await uploaded()
    const ids = expectedBlockIds(ref.uploadId, parts)
    await staging(ref).commitBlockList(ids, { blobHTTPHeaders: { blobContentType: PLAN.type }, metadata: PLAN.metadata })
    expect((await p.listParts(ref)).map((x) => x.partNumber)).toEqual([1, 2, 3])
    expect(await p.uploadState(ref)).toBe('open')
    const stored = await p.complete(input)
    expect(stored).toMatchObject({ size: PARTS.join('').length, ...PLAN })
  })

  it('copies only its own staging commit: a key holder’s write in between is not what lands at the key', async () => {
    const { p, ref, parts } = await uploaded()
    const evil = asOperation(await partKey(p, ref), { comp: 'metadata' })
    let interfered = 0
    // The real staging blob, with a key holder's Set Blob Metadata right after our commit.
    const real = staging(ref)
    const racing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'commitBlockList') return Reflect.get(target, prop, receiver)
        return async (...args: Parameters<typeof real.commitBlockList>) => {
          const result = await target.commitBlockList(...args)
          if (interfered++ === 0) expect((await fetch(evil, { method: 'PUT', headers: { 'x-ms-meta-evil': 'yes' } })).status).toBe(200)
          return result
        }
      },
    })
    const ids = expectedBlockIds(ref.uploadId, parts)
    const stored = await commitUpload({ final: blob(ref.key), staging: { blob: racing, uploadId: ref.uploadId }, ids, ...PLAN })
    expect(interfered).toBe(2) // the first commit was spoiled, so it committed again
    expect(stored.metadata).toEqual(PLAN.metadata)
    expect((await blob(ref.key).getProperties()).metadata).toEqual(PLAN.metadata)
  })

  it('tells a wrong part from a vanished upload', async () => {
    const { p, ref, parts, input } = await uploaded()
    const wrong = createHash('md5').update('never sent').digest('base64')
    const e = await p.complete({ ...input, parts: [parts[0]!, { partNumber: 2, etag: wrong }, parts[2]!] }).catch((x: unknown) => x)
    expect(isValetError(e) && e.code).toBe('part_mismatch')
    expect(isValetError(e) && e.context.missing).toEqual([2])
    expect(await code(p.complete({ ...input, parts: [] }))).toBe('part_mismatch')
    expect(await code(p.complete({ ...input, parts: [parts[0]!, parts[0]!] }))).toBe('part_mismatch')
    await p.abort(ref)
    expect(await code(p.complete(input))).toBe('upload_not_found')
    expect(await blob(ref.key).exists()).toBe(false)
  })
})
