/**
 * Issue 12, attacks 1 and 2 on Azure: what a genuine part key (a blob SAS with `w`) lets its holder
 * do, operation by operation, before and after complete, measured on Azurite (strict mode). Each
 * outcome is asserted at the storage level with the account key: the object's bytes (sha256), its
 * properties and metadata, its snapshots and lease, and what is left under `.valet/staging/`.
 * Real Azure's documented behaviour, where it differs, is in docs/security-azure.md.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { BlobSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob'
import { azure } from '@valet/server/azure'
import { encodeBlockId } from '../../packages/server/src/azure/block-id.js'
import { asOperation, partKey, putPart, useAzurite } from '../../packages/server/src/azure/use-azurite.js'
import { md5base64, sha256 } from '../support/key-endpoint.js'
import { AttackLog } from './attack-log.js'

const log = new AttackLog('azure-sas-scope')
afterAll(() => log.write())
const azurite = useAzurite('sas-scope')
const provider = () => azure(azurite().options)
const blob = (name: string) => azurite().container.getBlockBlobClient(name)

const PARTS = ['approved image, ', 'part two']
const PLANNED = sha256(Buffer.from(PARTS.join('')))
const PLAN = { type: 'image/png', disposition: undefined, metadata: { album: 'summer' } }
const BIG = new Uint8Array(20 * 1024 * 1024).fill(0x3c) // 20 MiB on a 24-byte upload
const FOREIGN_ID = btoa('y'.repeat(63))
const blockList = (ids: string[]) => `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((i) => `<Latest>${i}</Latest>`).join('')}</BlockList>`

/** An open upload of `mallory` with both parts sent, and a key signed for it while open. */
async function openUpload(owner = 'mallory') {
  const p = provider()
  const ref = { uploadId: randomUUID(), key: `${owner}/${randomUUID()}/photo.png`, owner }
  await p.create({ key: ref.key, owner, uniqueId: ref.uploadId, ...PLAN })
  const parts = []
  for (const [i, text] of PARTS.entries()) parts.push({ partNumber: i + 1, etag: (await putPart(p, ref, i + 1, text)).etag })
  const partIds = parts.map((x) => encodeBlockId(ref.uploadId, x.partNumber, x.etag))
  return { p, ref, parts, partIds, key: await partKey(p, ref, 2), input: { ...ref, parts, ...PLAN } }
}

/** What the core does on complete: an earlier commit of the same parts, or a fresh one. */
async function completeLikeCore({ p, input }: Awaited<ReturnType<typeof openUpload>>) {
  if ((await p.uploadState(input)) === 'completed') return p.findCommitted(input)
  return (await p.findCommitted(input)) ?? p.complete(input)
}

/** The object at `key` through the account key: bytes, headers, lease, snapshots. */
async function objectAt(key: string) {
  const b = blob(key)
  if (!(await b.exists())) return undefined
  const props = await b.getProperties()
  let snapshots = 0
  for await (const item of azurite().container.listBlobsFlat({ prefix: key, includeSnapshots: true })) if (item.name === key && item.snapshot) snapshots++
  return {
    sha256: sha256(await b.downloadToBuffer()),
    etag: props.etag,
    type: props.contentType,
    disposition: props.contentDisposition,
    extraHeaders: [props.contentEncoding, props.cacheControl, props.contentLanguage, props.contentMD5].filter((v) => v !== undefined),
    metadata: props.metadata,
    lease: props.leaseState,
    snapshots,
  }
}

/** Blobs (and snapshots, and uncommitted-only blobs) under the owner's staging folder. */
async function stagingLeft(owner: string, uploadId: string) {
  const left: string[] = []
  const items = azurite().container.listBlobsFlat({ prefix: `.valet/staging/${owner}/${uploadId}`, includeSnapshots: true, includeUncommitedBlobs: true })
  for await (const item of items) left.push(`${item.snapshot ? 'snapshot' : 'blob'} ${item.properties.contentLength} B`)
  return left
}

const expectApproved = (object: Awaited<ReturnType<typeof objectAt>>, etag?: string) => {
  expect(object).toMatchObject({ sha256: PLANNED, type: PLAN.type, disposition: undefined, extraHeaders: [], metadata: PLAN.metadata, lease: 'available', snapshots: 0 })
  if (etag) expect(object!.etag).toBe(etag)
}

type Attack = { name: string; send: (key: string, ctx: { bobKey: string; partIds: string[] }) => Promise<Response> }
const put = (url: string, init: RequestInit = {}) => fetch(url, { method: 'PUT', ...init })
const ATTACKS: Attack[] = [
  { name: 'Put Blob on the staging blob (20 MiB, text/html, own metadata)', send: (k) => put(asOperation(k), { body: BIG, headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-blob-content-type': 'text/html', 'x-ms-meta-evil': '1' } }) },
  { name: 'Put Block List (the parts reordered, text/html)', send: (k, { partIds }) => put(asOperation(k, { comp: 'blocklist' }), { body: blockList([...partIds].reverse()), headers: { 'x-ms-blob-content-type': 'text/html' } }) },
  { name: 'Put Block List (empty: discards the parts)', send: (k) => put(asOperation(k, { comp: 'blocklist' }), { body: blockList([]) }) },
  {
    name: 'Set Blob Properties (text/html, inline, gzip, Cache-Control, Content-Language, Content-MD5)',
    send: (k) =>
      put(asOperation(k, { comp: 'properties' }), {
        headers: {
          'x-ms-blob-content-type': 'text/html',
          'x-ms-blob-content-disposition': 'inline',
          'x-ms-blob-content-encoding': 'gzip',
          'x-ms-blob-cache-control': 'public, max-age=31536000',
          'x-ms-blob-content-language': 'fr',
          'x-ms-blob-content-md5': md5base64(new TextEncoder().encode('other')),
        },
      }),
  },
  { name: 'Set Blob Metadata', send: (k) => put(asOperation(k, { comp: 'metadata' }), { headers: { 'x-ms-meta-evil': '1' } }) },
  { name: 'Lease Blob (acquire, infinite)', send: (k) => put(asOperation(k, { comp: 'lease' }), { headers: { 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1' } }) },
  { name: 'Snapshot Blob', send: (k) => put(asOperation(k, { comp: 'snapshot' })) },
  { name: "Copy Blob into the key's blob from another principal's object", send: (k, { bobKey }) => put(asOperation(k), { headers: { 'x-ms-copy-source': blob(bobKey).url } }) },
]

describe('azurite: the narrowest SAS that allows Put Block', () => {
  it('is sp=w: create (c) and add (a) are refused for Put Block', async () => {
    const up = await openUpload()
    const { options } = azurite()
    const credential = new StorageSharedKeyCredential(options.accountName, options.accountKey)
    const genuine = new URL(up.key)
    const statuses: Record<string, number> = {}
    for (const sp of ['c', 'a', 'w']) {
      const sas = generateBlobSASQueryParameters(
        { containerName: options.container, blobName: `.valet/staging/mallory/${up.ref.uploadId}`, permissions: BlobSASPermissions.parse(sp), expiresOn: new Date(Date.now() + 60_000), version: genuine.searchParams.get('sv')! },
        credential,
      )
      const url = `${genuine.origin}${genuine.pathname}?comp=block&blockid=${encodeURIComponent(up.partIds[0]!)}&${sas.toString()}`
      statuses[sp] = (await put(url, { body: PARTS[0], headers: { 'Content-MD5': up.parts[0]!.etag } })).status
    }
    expect(statuses).toEqual({ c: 403, a: 403, w: 201 })
    log.record({ group: '2', attack: 'Put Block with a narrower SAS than w (sp=c, sp=a)', store: 'azurite', outcome: '403, 403; sp=w: 201, so a part key must carry w', refused: true })
  })
})

describe('azurite: a part key on an open upload, then a normal complete', () => {
  it.each(ATTACKS)('$name: lands on the staging blob only; the object is exactly the approved parts', async ({ name, send }) => {
    const up = await openUpload()
    const bobKey = `bob/${randomUUID()}/private.txt`
    await blob(bobKey).upload('bob private', 11)
    const res = await send(up.key, { bobKey, partIds: up.partIds })
    await res.arrayBuffer()
    const status = res.status
    expect(status, name).toBeLessThan(300) // Azure's SAS model allows all of these on the blob it names
    const stored = await completeLikeCore(up).catch((e: unknown) => e as Error)
    const object = await objectAt(up.ref.key)
    if (stored instanceof Error) {
      // The holder spoiled their own upload (the parts were replaced): nothing reached the key.
      expect(object).toBeUndefined()
    } else {
      expectApproved(object, stored!.etag)
      expect(await stagingLeft('mallory', up.ref.uploadId)).toEqual([])
    }
    expect((await blob(bobKey).downloadToBuffer()).toString()).toBe('bob private')
    const outcome = `${status} on .valet/staging only; ${stored instanceof Error ? `complete refused (${(stored as { code?: string }).code}), no object` : 'object = approved parts (sha256, type, metadata), no lease/snapshot; staging removed'}`
    log.record({ group: '2', attack: `part key, open upload: ${name}`, store: 'azurite', outcome, refused: true })
  })

  it('Put Blob / Put Block List on the object key (URL path edited), or another principal’s staging blob: 403', async () => {
    const up = await openUpload()
    const bobStaging = new URL(up.key).pathname.replace('/mallory/', '/bob/')
    const statuses = {
      objectPutBlob: (await put(asOperation(up.key, {}, new URL(blob(up.ref.key).url).pathname), { body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } })).status,
      objectBlockList: (await put(asOperation(up.key, { comp: 'blocklist' }, new URL(blob(up.ref.key).url).pathname), { body: blockList([]) })).status,
      otherStaging: (await put(asOperation(up.key, {}, bobStaging), { body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } })).status,
      get: (await fetch(asOperation(up.key))).status,
      delete: (await fetch(asOperation(up.key), { method: 'DELETE' })).status,
      list: (await fetch(asOperation(up.key, { restype: 'container', comp: 'list' }, new URL(azurite().container.url).pathname))).status,
    }
    expect(statuses).toEqual({ objectPutBlob: 403, objectBlockList: 403, otherStaging: 403, get: 403, delete: 403, list: 403 })
    expect(await objectAt(up.ref.key)).toBeUndefined()
    for (const [what, status] of Object.entries(statuses)) {
      log.record({ group: '2', attack: `part key: ${what} (URL edited)`, store: 'azurite', outcome: `${status}`, refused: true })
    }
  })
})

describe('azurite: a part key signed before complete, used after it', () => {
  it.each(ATTACKS)('$name: the approved object is untouched', async ({ name, send }) => {
    const up = await openUpload()
    const stored = (await completeLikeCore(up))!
    const before = await objectAt(up.ref.key)
    expectApproved(before, stored.etag)
    const bobKey = `bob/${randomUUID()}/private.txt`
    await blob(bobKey).upload('bob private', 11)
    const res = await send(up.key, { bobKey, partIds: up.partIds })
    await res.arrayBuffer()
    expect(await objectAt(up.ref.key)).toEqual(before)
    expect(await completeLikeCore(up)).toEqual(stored) // a retried complete still answers the same object
    expect(await up.p.uploadState(up.ref)).toBe('completed')
    // The app's own writes on its object are never blocked (no key can lease it).
    await blob(up.ref.key).setMetadata({ ...PLAN.metadata, reviewed: 'yes' })
    const left = await stagingLeft('mallory', up.ref.uploadId)
    log.record({ group: '2', attack: `part key after complete: ${name}`, store: 'azurite', outcome: `${res.status} on .valet/staging; object unchanged (sha256, etag, headers, no lease/snapshot)`, refused: true })
    if (left.length > 0) {
      log.record({ group: '2', attack: `part key after complete: ${name} (storage left behind)`, store: 'azurite', outcome: `${left.join(', ')} under .valet/staging until abort or the lifecycle rule; bounded by keyTtl`, refused: false })
    }
  })

  it('cannot replace the approved object: Put Blob at its key, or Put Block + Put Block List on staging', async () => {
    const up = await openUpload()
    const stored = (await completeLikeCore(up))!
    const before = await objectAt(up.ref.key)
    const objectPath = new URL(blob(up.ref.key).url).pathname
    const replace = await put(asOperation(up.key, {}, objectPath), { body: BIG, headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-blob-content-type': 'text/html' } })
    const block = await put(asOperation(up.key, { comp: 'block', blockid: FOREIGN_ID }), { body: '<script>' })
    const commit = await put(asOperation(up.key, { comp: 'blocklist' }), { body: blockList([FOREIGN_ID]) })
    expect([replace.status, block.status, commit.status]).toEqual([403, 201, 201])
    expect(await objectAt(up.ref.key)).toEqual(before)
    expect(await completeLikeCore(up)).toEqual(stored)
    log.record({ group: '1', attack: 'replace the approved object after complete: Put Blob at its key with a key signed before', store: 'azurite', outcome: '403; object unchanged (sha256, etag)', refused: true })
    log.record({ group: '1', attack: 'replace the approved object after complete: Put Block + Put Block List with a key signed before', store: 'azurite', outcome: '201 + 201 on .valet/staging only; object unchanged, complete answers the same object', refused: true })
  })
})

describe('azurite: abort cleans what a key holder put on the staging blob', () => {
  it('a block under a foreign id, a 20 MiB Put Blob and a snapshot do not survive abort; a lease does not stop it', async () => {
    const up = await openUpload()
    const statuses = [
      (await put(asOperation(up.key, { comp: 'block', blockid: FOREIGN_ID }), { body: 'foreign block' })).status,
      (await put(asOperation(up.key), { body: BIG, headers: { 'x-ms-blob-type': 'BlockBlob' } })).status,
      (await put(asOperation(up.key, { comp: 'snapshot' }))).status,
      (await put(asOperation(up.key, { comp: 'lease' }), { headers: { 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1' } })).status,
    ]
    expect(statuses).toEqual([201, 201, 201, 201])
    await up.p.abort(up.ref)
    const staging = blob(`.valet/staging/mallory/${up.ref.uploadId}`)
    const list = await staging.getBlockList('all')
    expect(list.uncommittedBlocks).toEqual([])
    expect(await stagingLeft('mallory', up.ref.uploadId)).toEqual(['blob 1 B'])
    expect(await up.p.uploadState(up.ref)).toBe('aborted')
    expect(await objectAt(up.ref.key)).toBeUndefined()
    log.record({ group: '2', attack: 'block under a foreign id, 20 MiB Put Blob, snapshot and infinite lease on an upload, then abort', store: 'azurite', outcome: 'abort breaks the lease; only a 1-byte tombstone is left, no block, no snapshot; no object', refused: true })
  })
})
