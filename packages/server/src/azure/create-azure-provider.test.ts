import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { encodeBlockId } from './block-id.js'
import { azure } from './index.js'
import { putPart, useAzurite } from './use-azurite.js'

// Every test here talks to a real Azurite (strict mode) with real keys.
const azurite = useAzurite('provider')
const setup = () => {
  const { options, container } = azurite()
  return { provider: azure(options), container }
}
const newRef = (owner = 'alice') => ({ uploadId: randomUUID(), key: `${owner}/${randomUUID()}/file.bin`, owner })
const create = async (provider: ReturnType<typeof azure>, ref: ReturnType<typeof newRef>) =>
  provider.create({ key: ref.key, owner: ref.owner, uniqueId: ref.uploadId, type: 'text/plain', disposition: undefined, metadata: {} })
const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isValetError(e) ? e.code : `other: ${String(e)}`))

describe('create', () => {
  it('uses uniqueId as the upload id and writes a committed 1-byte marker at the staging blob', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    expect(await create(provider, ref)).toEqual({ uploadId: ref.uploadId })
    const props = await container.getBlockBlobClient(`.valet/staging/alice/${ref.uploadId}`).getProperties()
    expect(props.contentLength).toBe(1)
    expect(await provider.uploadState(ref)).toBe('open')
    expect(await container.getBlockBlobClient(ref.key).exists()).toBe(false)
  })

  it('is idempotent: a create sent again keeps the parts already sent', async () => {
    const { provider } = setup()
    const ref = newRef()
    await create(provider, ref)
    expect((await putPart(provider, ref, 1, 'first part')).status).toBe(201)
    expect(await create(provider, ref)).toEqual({ uploadId: ref.uploadId })
    expect(await provider.listParts(ref)).toEqual([{ partNumber: 1, size: 10, etag: expect.any(String) }])
  })

  it('starts an aborted upload afresh when the same create comes again', async () => {
    const { provider } = setup()
    const ref = newRef()
    await create(provider, ref)
    await putPart(provider, ref, 1, 'old bytes')
    await provider.abort(ref)
    expect(await provider.uploadState(ref)).toBe('aborted')
    await create(provider, ref)
    expect(await provider.uploadState(ref)).toBe('open')
    expect(await provider.listParts(ref)).toEqual([])
  })

  it('writes nothing when the object already exists at the key', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    await container.getBlockBlobClient(ref.key).upload('existing', 8)
    await create(provider, ref)
    expect(await container.getBlockBlobClient(`.valet/staging/alice/${ref.uploadId}`).exists()).toBe(false)
    expect(await provider.uploadState(ref)).toBe('completed')
  })

  it('refuses contract violations before touching storage', async () => {
    const { provider } = setup()
    const ref = newRef()
    expect(await code(provider.create({ ...ref, uniqueId: 'not-a-uuid', type: 't/t', disposition: undefined, metadata: {} }))).toBe('internal_error')
    expect(await code(create(provider, { ...ref, owner: 'al.ice' }))).toBe('internal_error')
    expect(await code(create(provider, { ...ref, owner: 'a/b' }))).toBe('internal_error')
    expect(await code(create(provider, { ...ref, key: '.valet/receipts/x' }))).toBe('internal_error')
  })
})

describe('uploadState', () => {
  it('says aborted for an upload that was never created (or whose staging blob is gone)', async () => {
    const { provider } = setup()
    expect(await provider.uploadState(newRef())).toBe('aborted')
    expect(await provider.uploadState({ ...newRef(), uploadId: 'nope' })).toBe('aborted')
  })

  it('says completed as soon as any object is at the key, whatever the staging blob says', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    await create(provider, ref)
    await container.getBlockBlobClient(ref.key).upload('x', 1)
    expect(await provider.uploadState(ref)).toBe('completed')
  })
})

describe('listParts', () => {
  it('lists this upload’s blocks by part number, MD5 as etag, and ignores blocks under other ids', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    await create(provider, ref)
    const two = await putPart(provider, ref, 2, 'second!')
    const one = await putPart(provider, ref, 1, 'the first')
    const staging = container.getBlockBlobClient(`.valet/staging/alice/${ref.uploadId}`)
    await staging.stageBlock(encodeBlockId(randomUUID(), 1, one.etag), 'x', 1) // another upload's id
    expect(await provider.listParts(ref)).toEqual([
      { partNumber: 1, size: 9, etag: one.etag },
      { partNumber: 2, size: 7, etag: two.etag },
    ])
  })

  it('answers upload_not_found once the upload is aborted or gone', async () => {
    const { provider } = setup()
    const ref = newRef()
    expect(await code(provider.listParts(ref))).toBe('upload_not_found')
    await create(provider, ref)
    await putPart(provider, ref, 1, 'abc')
    await provider.abort(ref)
    expect(await code(provider.listParts(ref))).toBe('upload_not_found')
  })
})

describe('abort', () => {
  it('discards every uncommitted block, leaves a tombstone, never touches the object key, and is idempotent', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    await create(provider, ref)
    await putPart(provider, ref, 1, 'part one')
    const staging = container.getBlockBlobClient(`.valet/staging/alice/${ref.uploadId}`)
    await staging.stageBlock(btoa('x'.repeat(63)), 'foreign', 7)
    await container.getBlockBlobClient(ref.key).upload('someone else', 12)
    await provider.abort(ref)
    await provider.abort(ref)
    const list = await staging.getBlockList('all')
    expect(list.uncommittedBlocks).toEqual([])
    expect(list.committedBlocks).toHaveLength(1)
    const props = await staging.getProperties()
    expect(props.contentLength).toBe(1)
    expect(props.metadata).toEqual({ valet_aborted_upload: ref.uploadId })
    expect((await container.getBlockBlobClient(ref.key).downloadToBuffer()).toString()).toBe('someone else')
  })

  it('breaks a lease a key holder took on the staging blob', async () => {
    const { provider, container } = setup()
    const ref = newRef()
    await create(provider, ref)
    const staging = container.getBlockBlobClient(`.valet/staging/alice/${ref.uploadId}`)
    await staging.getBlobLeaseClient().acquireLease(-1)
    await provider.abort(ref)
    expect(await provider.uploadState(ref)).toBe('aborted')
  })

  it('succeeds when there is nothing to abort', async () => {
    const { provider } = setup()
    await provider.abort(newRef())
    await provider.abort({ ...newRef(), uploadId: 'not-ours' })
  })
})

describe('countOpenUploads', () => {
  it('counts the owner’s open uploads only, not tombstones, and stops at the limit', async () => {
    const { provider } = setup()
    const owner = `count-${randomUUID().slice(0, 8)}`
    const refs = [newRef(owner), newRef(owner), newRef(owner), newRef(owner)]
    for (const ref of refs) await create(provider, ref)
    await create(provider, newRef(`${owner}-other`)) // a prefix of nobody: `owner/` ends with a slash
    await provider.abort(refs[0]!)
    expect(await provider.countOpenUploads({ owner, limit: 100 })).toBe(3)
    expect(await provider.countOpenUploads({ owner, limit: 2 })).toBe(2)
    expect(await provider.countOpenUploads({ owner, limit: 0 })).toBe(0)
    expect(await provider.countOpenUploads({ owner: `${owner}-none`, limit: 5 })).toBe(0)
  })
})
