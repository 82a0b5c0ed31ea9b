import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { azureLimits, isValetError, type ValetError } from '@valet/protocol'
import { encodeBlockId } from './block-id.js'
import { azure } from './index.js'
import { AZURE_SERVICE_VERSION } from './options.js'

// msw answers every request in-process; an unmatched one fails instead of leaving the machine.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const ENDPOINT = 'http://127.0.0.1:10000/devstoreaccount1'
const BLOB = `${ENDPOINT}/uploads/u1/a%20b.bin`
const provider = azure({ accountName: 'devstoreaccount1', accountKey, container: 'uploads', endpoint: ENDPOINT })
const key = 'u1/a b.bin'
const uploadId = '0f8fad5b-d9cb-469f-a165-70867728950e'
const other = '1f8fad5b-d9cb-469f-a165-70867728950e'
const md5 = (s: string) => createHash('md5').update(s).digest('base64')
const [M1, M2, M3] = [md5('one'), md5('two'), md5('three')]

const xml = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new HttpResponse(`<?xml version="1.0" encoding="utf-8"?>${body}`, { status, headers: { 'content-type': 'application/xml', ...headers } })
const azError = (code: string, status: number) =>
  xml(`<Error><Code>${code}</Code><Message>msg for ${code}</Message></Error>`, status, { 'x-ms-error-code': code })
const blocks = (list: [string, number][]) => list.map(([name, size]) => `<Block><Name>${name}</Name><Size>${size}</Size></Block>`).join('')
const blockList = (committed: [string, number][], uncommitted: [string, number][]) =>
  xml(`<BlockList><CommittedBlocks>${blocks(committed)}</CommittedBlocks><UncommittedBlocks>${blocks(uncommitted)}</UncommittedBlocks></BlockList>`)

async function rejection(promise: Promise<unknown>): Promise<ValetError> {
  const e = await promise.then(() => undefined, (err: unknown) => err)
  if (!isValetError(e)) throw new Error(`expected a ValetError, got ${String(e)}`)
  return e
}

function recorder() {
  const seen: { method: string; url: URL; headers: Headers; body: string }[] = []
  const record = async (request: Request) => {
    seen.push({ method: request.method, url: new URL(request.url), headers: request.headers, body: await request.clone().text() })
  }
  return { seen, record }
}

describe('azure() provider', () => {
  it('is named azure and carries Azure limits', () => {
    expect(provider.name).toBe('azure')
    expect(provider.limits).toBe(azureLimits)
  })

  it('create returns a fresh UUID and touches no storage', async () => {
    const a = await provider.create({ key, type: 'text/plain', metadata: {} })
    const b = await provider.create({ key, type: 'text/plain', metadata: {} })
    expect(a.uploadId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a.uploadId).not.toBe(b.uploadId)
  })
})

describe('signPart', () => {
  const expiresAt = new Date('2030-01-02T03:04:05.678Z')

  it('signs a write-only blob SAS for Put Block of this part', async () => {
    const part = await provider.signPart({ uploadId, key, partNumber: 3, size: 1024, md5: M1, expiresAt })
    expect(part.method).toBe('PUT')
    expect(part.partNumber).toBe(3)
    expect(part.headers).toEqual({ 'Content-MD5': M1 })
    // `se` has whole seconds; the reported expiry is the one storage enforces.
    expect(part.expiresAt).toBe('2030-01-02T03:04:05.000Z')
    const url = new URL(part.url)
    expect(`${url.origin}${url.pathname}`).toBe(BLOB)
    const q = url.searchParams
    expect(q.get('comp')).toBe('block')
    expect(q.get('blockid')).toBe(encodeBlockId(uploadId, 3, M1))
    expect(q.get('sv')).toBe(AZURE_SERVICE_VERSION)
    expect(q.get('sr')).toBe('b')
    expect(q.get('sp')).toBe('w')
    expect(q.get('se')).toBe('2030-01-02T03:04:05Z')
    expect(q.get('spr')).toBe('https,http')
    expect(q.has('st')).toBe(false) // validity starts on arrival: storage clock skew cannot refuse it
    expect(q.get('sig')).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  })

  it('restricts the SAS to HTTPS when the endpoint is HTTPS', async () => {
    const cloud = azure({ accountName: 'myaccount', accountKey, container: 'uploads' })
    const part = await cloud.signPart({ uploadId, key: 'a/b c.txt', partNumber: 1, size: 1, md5: M1, expiresAt })
    const url = new URL(part.url)
    expect(`${url.origin}${url.pathname}`).toBe('https://myaccount.blob.core.windows.net/uploads/a/b%20c.txt')
    expect(url.searchParams.get('spr')).toBe('https')
  })

  it('refuses parts Azure cannot take', async () => {
    expect((await rejection(provider.signPart({ uploadId, key, partNumber: 50_001, size: 1, md5: M1, expiresAt }))).code).toBe('invalid_part')
    expect((await rejection(provider.signPart({ uploadId, key, partNumber: 1, size: 0, md5: M1, expiresAt }))).code).toBe('invalid_part')
    expect((await rejection(provider.signPart({ uploadId, key, partNumber: 1, size: azureLimits.maxPartSize + 1, md5: M1, expiresAt }))).code).toBe('invalid_part')
    expect((await rejection(provider.signPart({ uploadId, key, partNumber: 1, size: 1, md5: 'nope', expiresAt }))).code).toBe('invalid_part')
    expect((await rejection(provider.signPart({ uploadId: 'upload-1', key, partNumber: 1, size: 1, md5: M1, expiresAt }))).code).toBe('upload_not_found')
  })
})

describe('listParts', () => {
  it('lists this upload’s blocks by part number, MD5 as etag, with the pinned service version', async () => {
    const { seen, record } = recorder()
    server.use(
      http.get(BLOB, async ({ request }) => {
        await record(request)
        return blockList(
          [[encodeBlockId(uploadId, 1, M3), 5]],
          [
            [encodeBlockId(uploadId, 2, M2), 20],
            [encodeBlockId(other, 1, M1), 99], // another upload to the same key
            [btoa('some-other-writer'), 7],
            [encodeBlockId(uploadId, 1, M1), 10], // re-uploaded part 1: the uncommitted one wins
          ],
        )
      }),
    )
    expect(await provider.listParts({ uploadId, key })).toEqual([
      { partNumber: 1, size: 10, etag: M1 },
      { partNumber: 2, size: 20, etag: M2 },
    ])
    expect(seen[0]!.url.searchParams.get('comp')).toBe('blocklist')
    expect(seen[0]!.url.searchParams.get('blocklisttype')).toBe('all')
    expect(seen[0]!.headers.get('x-ms-version')).toBe(AZURE_SERVICE_VERSION)
    expect(seen[0]!.headers.get('authorization')).toMatch(/^SharedKey devstoreaccount1:/)
  })

  it('is empty when the blob has no block yet', async () => {
    server.use(http.get(BLOB, () => azError('BlobNotFound', 404)))
    expect(await provider.listParts({ uploadId, key })).toEqual([])
  })

  it('maps other failures to storage_error with status and Azure code', async () => {
    server.use(http.get(BLOB, () => azError('ContainerNotFound', 404)))
    let e = await rejection(provider.listParts({ uploadId, key }))
    expect(e.code).toBe('storage_error')
    expect(e.context).toMatchObject({ status: 404, azureCode: 'ContainerNotFound', key })
    expect(e.message).toContain('create the container')
    server.use(http.get(BLOB, () => azError('AuthenticationFailed', 403)))
    e = await rejection(provider.listParts({ uploadId, key }))
    expect(e.context).toMatchObject({ status: 403, azureCode: 'AuthenticationFailed' })
    expect(e.cause).toBeDefined()
  })

  it('reports an unreachable storage as storage_error without status', async () => {
    server.use(http.get(BLOB, () => HttpResponse.error()))
    const e = await rejection(provider.listParts({ uploadId, key }))
    expect(e.code).toBe('storage_error')
    expect(e.context.status).toBeUndefined()
  })

  it('honours an aborted signal', async () => {
    server.use(http.get(BLOB, () => blockList([], [])))
    const e = await provider.listParts({ uploadId, key, signal: AbortSignal.abort() }).catch((err: unknown) => err)
    expect((e as Error).name).toBe('AbortError')
  })

  it('treats a foreign upload id as not found', async () => {
    expect((await rejection(provider.listParts({ uploadId: 'x', key }))).code).toBe('upload_not_found')
  })
})

describe('complete', () => {
  const input = {
    uploadId,
    key,
    parts: [
      { partNumber: 2, etag: M2 },
      { partNumber: 1, etag: `"${M1}"` },
    ],
    type: 'video/mp4',
    metadata: { origin: 'test' },
  }

  it('commits the blocks in part order with type and metadata, then reads size and etag', async () => {
    const { seen, record } = recorder()
    server.use(
      http.put(BLOB, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 201, headers: { etag: '"0x8DC1"' } })
      }),
      http.head(BLOB, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 200, headers: { etag: '"0x8DC1"', 'content-length': '30' } })
      }),
    )
    expect(await provider.complete(input)).toEqual({ etag: '"0x8DC1"', size: 30, location: BLOB })
    const [put, head] = seen
    expect(put!.url.searchParams.get('comp')).toBe('blocklist')
    expect(put!.headers.get('x-ms-blob-content-type')).toBe('video/mp4')
    expect(put!.headers.get('x-ms-meta-origin')).toBe('test')
    const ids = [...put!.body.matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => m[1])
    expect(ids).toEqual([encodeBlockId(uploadId, 1, M1), encodeBlockId(uploadId, 2, M2)])
    expect(head!.headers.get('if-match')).toBe('"0x8DC1"')
  })

  it('refuses etags that are not an MD5, and duplicates, before calling storage', async () => {
    expect((await rejection(provider.complete({ ...input, parts: [{ partNumber: 1, etag: '"0x8DC1"' }] }))).code).toBe('part_mismatch')
    const dup = [{ partNumber: 1, etag: M1 }, { partNumber: 1, etag: M2 }]
    expect((await rejection(provider.complete({ ...input, parts: dup }))).code).toBe('part_mismatch')
    expect((await rejection(provider.complete({ ...input, parts: [] }))).code).toBe('part_mismatch')
  })

  it('maps InvalidBlockList to part_mismatch while blocks of the upload remain', async () => {
    server.use(
      http.put(BLOB, () => azError('InvalidBlockList', 400)),
      http.get(BLOB, () => blockList([], [[encodeBlockId(uploadId, 1, M1), 10], [encodeBlockId(uploadId, 2, M3), 10]])),
    )
    const e = await rejection(provider.complete(input))
    expect(e.code).toBe('part_mismatch')
    expect(e.context).toMatchObject({ status: 400, azureCode: 'InvalidBlockList', missing: [2] })
  })

  it('maps InvalidBlockList to upload_not_found when nothing of the upload is left', async () => {
    server.use(http.put(BLOB, () => azError('InvalidBlockList', 400)), http.get(BLOB, () => azError('BlobNotFound', 404)))
    expect((await rejection(provider.complete(input))).code).toBe('upload_not_found')
  })

  it('maps other failures to storage_error', async () => {
    server.use(http.put(BLOB, () => azError('AuthorizationFailure', 403)))
    const e = await rejection(provider.complete(input))
    expect(e.code).toBe('storage_error')
    expect(e.context).toMatchObject({ status: 403, azureCode: 'AuthorizationFailure' })
  })
})

describe('abort', () => {
  it('discards uncommitted blocks: empty commit if no blob exists, then delete of that blob', async () => {
    const { seen, record } = recorder()
    server.use(
      http.get(BLOB, () => blockList([], [[encodeBlockId(uploadId, 1, M1), 10]])),
      http.put(BLOB, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 201, headers: { etag: '"0xE"' } })
      }),
      http.delete(BLOB, async ({ request }) => {
        await record(request)
        return new HttpResponse(null, { status: 202 })
      }),
    )
    await provider.abort({ uploadId, key })
    const [put, del] = seen
    expect(put!.headers.get('if-none-match')).toBe('*')
    expect(put!.headers.get('x-ms-meta-valet_aborted_upload')).toBe(uploadId)
    expect(put!.body).not.toContain('<Latest>')
    expect(del!.method).toBe('DELETE')
    expect(del!.headers.get('if-match')).toBe('"0xE"')
  })

  it('leaves a committed blob alone (its blocks expire after 7 days)', async () => {
    let deletes = 0
    server.use(
      http.get(BLOB, () => blockList([], [[encodeBlockId(uploadId, 1, M1), 10]])),
      http.put(BLOB, () => azError('BlobAlreadyExists', 409)),
      http.delete(BLOB, () => {
        deletes++
        return new HttpResponse(null, { status: 202 })
      }),
    )
    await provider.abort({ uploadId, key })
    expect(deletes).toBe(0)
  })

  it('succeeds when there is nothing to abort, without writing', async () => {
    server.use(http.get(BLOB, () => azError('BlobNotFound', 404)))
    await provider.abort({ uploadId, key })
    server.use(http.get(BLOB, () => blockList([[encodeBlockId(uploadId, 1, M1), 1]], [[encodeBlockId(other, 1, M1), 1]])))
    await provider.abort({ uploadId, key })
    await provider.abort({ uploadId: 'not-ours', key })
  })

  it('succeeds when the empty blob is gone or replaced before its delete', async () => {
    server.use(
      http.get(BLOB, () => blockList([], [[encodeBlockId(uploadId, 1, M1), 10]])),
      http.put(BLOB, () => new HttpResponse(null, { status: 201, headers: { etag: '"0xE"' } })),
      http.delete(BLOB, () => azError('ConditionNotMet', 412)),
    )
    await provider.abort({ uploadId, key })
  })

  it('reports a storage failure', async () => {
    server.use(http.get(BLOB, () => azError('AuthenticationFailed', 403)))
    expect((await rejection(provider.abort({ uploadId, key }))).code).toBe('storage_error')
  })
})
