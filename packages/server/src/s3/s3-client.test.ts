import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { isValetError, type ValetError } from '@valet/protocol'
import { S3Client, storageError } from './s3-client.js'
import { normalizeS3Options } from './s3-options.js'

// msw answers every request in-process; an unmatched one fails instead of leaving the machine.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const client = new S3Client(
  normalizeS3Options({ endpoint: 'http://127.0.0.1:9000', bucket: 'b', credentials: { accessKeyId: 'AKID', secretAccessKey: 'S' }, forcePathStyle: true }),
)
const URL_K = 'http://127.0.0.1:9000/b/k'
const get = (signal?: AbortSignal) => client.send({ operation: 'ListParts', method: 'GET', key: 'k', query: { uploadId: 'u' }, signal })

async function rejection(promise: Promise<unknown>): Promise<ValetError> {
  const e = await promise.then(() => undefined, (err: unknown) => err)
  if (!isValetError(e)) throw new Error(`expected a ValetError, got ${String(e)}`)
  return e
}

describe('S3Client.send', () => {
  it('returns answers of any status with the parsed <Error>', async () => {
    server.use(http.get(URL_K, () => new HttpResponse('<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>', { status: 503, headers: { 'x-amz-request-id': 'hdr-id' } })))
    const res = await get()
    expect(res).toMatchObject({ operation: 'ListParts', status: 503, ok: false, error: { code: 'SlowDown', message: 'Reduce', requestId: undefined } })
    const e = storageError(res)
    expect(e.code).toBe('storage_error')
    expect(e.message).toBe('S3 ListParts failed: SlowDown (HTTP 503): Reduce')
    expect(e.context).toEqual({ operation: 'ListParts', status: 503, s3Code: 'SlowDown', requestId: 'hdr-id' })
  })

  it('treats a 200 carrying an <Error> document as a failure', async () => {
    server.use(http.get(URL_K, () => new HttpResponse('  <Error><Code>InternalError</Code></Error>', { status: 200 })))
    expect(await get()).toMatchObject({ status: 200, ok: false, error: { code: 'InternalError' } })
  })

  it('reports a failure without an XML body by its status', async () => {
    server.use(http.get(URL_K, () => new HttpResponse('bad gateway', { status: 502 })))
    const e = storageError(await get())
    expect(e.message).toBe('S3 ListParts failed: HTTP 502')
    expect(e.context).toMatchObject({ status: 502, s3Code: undefined })
  })

  it('turns a network error into storage_error with the cause', async () => {
    server.use(http.get(URL_K, () => HttpResponse.error()))
    const e = await rejection(get())
    expect(e.code).toBe('storage_error')
    expect(e.message).toMatch(/^S3 ListParts failed: network error/)
    expect(e.cause).toBeInstanceOf(Error)
    expect(e.context).toEqual({ operation: 'ListParts', aborted: false })
  })

  it('honours the signal, keeping its reason as the cause', async () => {
    server.use(http.get(URL_K, () => new Promise<never>(() => {})))
    const controller = new AbortController()
    const pending = get(controller.signal)
    const reason = new Error('client went away')
    controller.abort(reason)
    const e = await rejection(pending)
    expect(e.code).toBe('storage_error')
    expect(e.message).toBe('S3 ListParts failed: aborted (Error: client went away)')
    expect(e.cause).toBe(reason)
    expect(e.context).toMatchObject({ aborted: true })
  })

  it('does not send when the signal is already aborted', async () => {
    let calls = 0
    server.use(http.get(URL_K, () => (calls++, new HttpResponse(''))))
    const e = await rejection(get(AbortSignal.abort()))
    expect(e.context).toMatchObject({ aborted: true })
    expect(calls).toBe(0)
  })

  it('refuses an unencodable key before any request', async () => {
    await expect(client.send({ operation: 'HeadObject', method: 'HEAD', key: 'a/../b' })).rejects.toMatchObject({ code: 'bad_request' })
  })
})
