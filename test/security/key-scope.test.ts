/**
 * What one valet key can and cannot do, per storage: the attempts refused before issue 12 (group
 * `R` of the security table). Each refusal comes from storage itself. Azure cannot scope a SAS
 * below one blob: what it still allows is asserted too (and test/security/azure-sas-scope.test.ts
 * shows none of it reaches an object).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB, type SignedPart } from '@valet/protocol'
import { generate, keyEndpoint, md5base64 } from '../support/key-endpoint.js'
import { azuriteCase, swiftCase } from '../support/storages.js'
import { AttackLog, type Store } from './attack-log.js'

const log = new AttackLog('key-scope')
afterAll(() => log.write())

const LABELS: Record<string, string> = {
  otherPartNumber: 'URL edited to another partNumber',
  otherBytesOwnMd5: 'other bytes with their own Content-MD5',
  otherBytesSignedMd5: 'bytes that do not match the signed MD5',
  longerBody: 'a body one byte longer',
  noMd5: 'no Content-MD5',
  longerExpiry: 'expiry edited to 7 days',
  otherUploadId: 'URL edited to another uploadId',
  tamperedSignature: 'signature edited',
  delete: 'the key used for DELETE',
  otherBlob: 'path edited to another blob',
  readWrite: 'permissions edited to sp=rw',
  corruptedBytes: 'corrupted bytes (body ≠ Content-MD5)',
  read: 'the key used for GET',
}

/** Records every refused attempt of one key (the genuine PUT is the control, not a row). */
function recordRefusals(store: Store, statuses: Record<string, number>): void {
  for (const [name, status] of Object.entries(statuses)) {
    if (name !== 'genuine') log.record({ group: 'R', attack: `part key: ${LABELS[name] ?? name}`, store, outcome: String(status), refused: status >= 400 })
  }
}

async function oneKey(storage: ReturnType<typeof swiftCase>, size = 12 * MiB) {
  const { call } = keyEndpoint(storage.provider())
  const up = (await call('POST', '/uploads', { name: 'a.bin', size, type: 'application/octet-stream', partSize: 5 * MiB })).body
  const data = generate(size, 11)
  const part = data.subarray(0, 5 * MiB)
  const res = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, {
    token: up.token,
    parts: [{ partNumber: 1, size: part.length, md5: md5base64(part) }],
  })
  return { call, up, part, key: res.body.parts[0] as SignedPart }
}

const put = (url: string, body: Uint8Array, headers: Record<string, string>) =>
  fetch(url, { method: 'PUT', headers, body: body as Uint8Array<ArrayBuffer> }).then((r) => r.status)

function edit(url: string, change: (u: URL) => void): string {
  const u = new URL(url)
  change(u)
  return u.toString()
}

describe('swift: a presigned UploadPart key', () => {
  it('works once for exactly its part, bytes, size and lifetime', async () => {
    const { part, key } = await oneKey(swiftCase())
    const other = generate(part.length, 99)
    const longer = generate(part.length + 1, 5)
    const statuses = {
      otherPartNumber: await put(edit(key.url, (u) => u.searchParams.set('partNumber', '2')), part, key.headers),
      otherBytesOwnMd5: await put(key.url, other, { 'Content-MD5': md5base64(other) }),
      otherBytesSignedMd5: await put(key.url, other, key.headers),
      longerBody: await put(key.url, longer, { 'Content-MD5': md5base64(longer) }),
      noMd5: await put(key.url, part, {}),
      longerExpiry: await put(edit(key.url, (u) => u.searchParams.set('X-Amz-Expires', '604800')), part, key.headers),
      otherUploadId: await put(edit(key.url, (u) => u.searchParams.set('uploadId', 'x' + u.searchParams.get('uploadId'))), part, key.headers),
      tamperedSignature: await put(edit(key.url, (u) => u.searchParams.set('X-Amz-Signature', '0'.repeat(64))), part, key.headers),
      delete: (await fetch(key.url, { method: 'DELETE' })).status,
      genuine: await put(key.url, part, key.headers),
    }
    expect(statuses).toEqual({
      otherPartNumber: 403,
      otherBytesOwnMd5: 403,
      otherBytesSignedMd5: 400,
      longerBody: 403,
      noMd5: 403,
      longerExpiry: 403,
      otherUploadId: 403,
      tamperedSignature: 403,
      delete: 403,
      genuine: 200,
    })
    recordRefusals('swift', statuses)
  })
})

describe('azurite: a blob SAS', () => {
  it('refuses other blobs, other permissions, a longer life and corrupted bytes', async () => {
    const { part, key } = await oneKey(azuriteCase())
    const flipped = part.slice()
    flipped[0] = flipped[0]! ^ 1
    const statuses = {
      otherBlob: await put(edit(key.url, (u) => (u.pathname = u.pathname.replace(/[^/]+$/, crypto.randomUUID()))), part, key.headers),
      readWrite: await put(edit(key.url, (u) => u.searchParams.set('sp', 'rw')), part, key.headers),
      longerExpiry: await put(edit(key.url, (u) => u.searchParams.set('se', '2099-01-01T00:00:00Z')), part, key.headers),
      tamperedSignature: await put(edit(key.url, (u) => u.searchParams.set('sig', 'A'.repeat(43) + '=')), part, key.headers),
      corruptedBytes: await put(key.url, flipped, key.headers),
      read: (await fetch(key.url.replace(/comp=block&blockid=[^&]+&/, ''))).status,
      delete: (await fetch(key.url.replace(/comp=block&blockid=[^&]+&/, ''), { method: 'DELETE' })).status,
      genuine: await put(key.url, part, key.headers),
    }
    expect(statuses).toEqual({
      otherBlob: 403,
      readWrite: 403,
      longerExpiry: 403,
      tamperedSignature: 403,
      corruptedBytes: 400,
      read: 403,
      delete: 403,
      genuine: 201,
    })
    recordRefusals('azurite', statuses)
  })

  it('cannot be bound to one block: another block id is accepted, but complete ignores it', async () => {
    const { call, up, part, key } = await oneKey(azuriteCase(), 6 * MiB)
    const foreignBlock = edit(key.url, (u) => u.searchParams.set('blockid', Buffer.from('x'.repeat(63)).toString('base64')))
    // Azure limitation (docs/security.md): the SAS covers the whole blob until it expires.
    expect(await put(foreignBlock, part, key.headers)).toBe(201)
    const listed = await call('GET', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, undefined, { 'valet-token': up.token })
    expect(listed.body.parts).toEqual([])
  })
})
