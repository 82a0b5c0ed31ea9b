import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { azureLimits, isValetError, type ValetError } from '@valet/protocol'
import { encodeBlockId } from './block-id.js'
import { azure } from './index.js'
import { AZURE_SERVICE_VERSION } from './options.js'

// Request shapes and failures real storage cannot be made to produce on demand (a network error,
// a missing container, an aborted call). Behaviour against storage is tested on Azurite beside this.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const ENDPOINT = 'http://127.0.0.1:10000/devstoreaccount1'
const provider = azure({ accountName: 'devstoreaccount1', accountKey, container: 'uploads', endpoint: ENDPOINT })
const uploadId = '0f8fad5b-d9cb-469f-a165-70867728950e'
const ref = { uploadId, key: 'u1/a b.bin', owner: 'u1' }
const STAGING = `${ENDPOINT}/uploads/.valet/staging/u1/${uploadId}`
const M1 = createHash('md5').update('one').digest('base64')

const azError = (code: string, status: number) =>
  new HttpResponse(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`, {
    status,
    headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
  })

async function rejection(promise: Promise<unknown>): Promise<ValetError> {
  const e = await promise.then(() => undefined, (err: unknown) => err)
  if (!isValetError(e)) throw new Error(`expected a ValetError, got ${String(e)}`)
  return e
}

describe('azure()', () => {
  it('is named azure and carries Azure limits, with metadata limits inside Azure’s 8 KiB', () => {
    expect(provider.name).toBe('azure')
    expect(provider.limits).toMatchObject(azureLimits)
    const { maxMetadataCount, maxMetadataValueBytes } = provider.limits
    expect(maxMetadataCount * 64 + 2048).toBeLessThanOrEqual(8 * 1024 - 2048)
    expect(maxMetadataValueBytes).toBeGreaterThanOrEqual(256)
    expect(provider.records.conditional).toBe(true)
  })

  it('still validates options at once with invalid_option naming the option', () => {
    expect(() => azure({ accountName: 'x', accountKey, container: 'uploads' })).toThrow('azure(): option `accountName`')
    expect(() => azure({ accountName: 'x', accountKey, container: 'uploads' })).toThrow(
      expect.objectContaining({ code: 'invalid_option', context: { option: 'accountName', owner: 'azure()' } }),
    )
  })
})

describe('signPart', () => {
  const expiresAt = new Date('2030-01-02T03:04:05.678Z')

  it('signs a write-only SAS for Put Block on the staging blob, never on the object key', async () => {
    const part = await provider.signPart({ ...ref, partNumber: 3, size: 1024, md5: M1, expiresAt })
    expect(part).toMatchObject({ method: 'PUT', partNumber: 3, headers: { 'Content-MD5': M1 }, expiresAt: '2030-01-02T03:04:05.000Z' })
    const url = new URL(part.url)
    expect(`${url.origin}${url.pathname}`).toBe(STAGING)
    expect(part.url).not.toContain('a%20b.bin')
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
    const url = new URL((await cloud.signPart({ ...ref, partNumber: 1, size: 1, md5: M1, expiresAt })).url)
    expect(`${url.origin}${url.pathname}`).toBe(`https://myaccount.blob.core.windows.net/uploads/.valet/staging/u1/${uploadId}`)
    expect(url.searchParams.get('spr')).toBe('https')
  })

  it('refuses parts Azure cannot take and refs the core should never send', async () => {
    const sign = (patch: object) => rejection(provider.signPart({ ...ref, partNumber: 1, size: 1, md5: M1, expiresAt, ...patch }))
    expect((await sign({ partNumber: 50_001 })).code).toBe('invalid_part')
    expect((await sign({ size: 0 })).code).toBe('invalid_part')
    expect((await sign({ size: azureLimits.maxPartSize + 1 })).code).toBe('invalid_part')
    expect((await sign({ md5: 'nope' })).code).toBe('invalid_part')
    expect((await sign({ uploadId: 'upload-1' })).code).toBe('upload_not_found')
    expect((await sign({ owner: '../bob' })).code).toBe('internal_error')
  })
})

describe('storage calls', () => {
  it('carry the pinned service version and a shared-key signature', async () => {
    const seen: Request[] = []
    server.use(
      http.get(STAGING, ({ request }) => {
        seen.push(request)
        return new HttpResponse('<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks/><UncommittedBlocks/></BlockList>', {
          headers: { 'content-type': 'application/xml' },
        })
      }),
    )
    expect(await provider.listParts(ref)).toEqual([])
    const url = new URL(seen[0]!.url)
    expect(url.searchParams.get('comp')).toBe('blocklist')
    expect(url.searchParams.get('blocklisttype')).toBe('all')
    expect(seen[0]!.headers.get('x-ms-version')).toBe(AZURE_SERVICE_VERSION)
    expect(seen[0]!.headers.get('authorization')).toMatch(/^SharedKey devstoreaccount1:/)
  })

  it('report a missing container as storage_error with a hint, not as a missing upload', async () => {
    server.use(http.get(STAGING, () => azError('ContainerNotFound', 404)))
    const e = await rejection(provider.listParts(ref))
    expect(e.code).toBe('storage_error')
    expect(e.context).toMatchObject({ status: 404, azureCode: 'ContainerNotFound' })
    expect(e.message).toContain('create the container')
  })

  it('map refusals to storage_error with status and Azure code', async () => {
    server.use(http.head(`${ENDPOINT}/uploads/u1/a%20b.bin`, () => new HttpResponse(null, { status: 403, headers: { 'x-ms-error-code': 'AuthenticationFailed' } })))
    server.use(http.head(STAGING, () => new HttpResponse(null, { status: 404, headers: { 'x-ms-error-code': 'BlobNotFound' } })))
    const e = await rejection(provider.uploadState(ref))
    expect(e.code).toBe('storage_error')
    expect(e.context).toMatchObject({ status: 403, azureCode: 'AuthenticationFailed' })
    expect(e.cause).toBeDefined()
  })

  it('report an unreachable storage as storage_error without status', async () => {
    server.use(http.get(STAGING, () => HttpResponse.error()))
    const e = await rejection(provider.listParts(ref))
    expect(e.code).toBe('storage_error')
    expect(e.context.status).toBeUndefined()
  })

  it('honour an aborted signal: the caller’s reason, not a storage error', async () => {
    server.use(http.get(STAGING, () => new HttpResponse('', { status: 200 })))
    const e = await provider.listParts({ ...ref, signal: AbortSignal.abort() }).catch((err: unknown) => err)
    expect((e as Error).name).toBe('AbortError')
  })
})
