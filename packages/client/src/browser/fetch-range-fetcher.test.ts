import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { fetchRangeFetcher, type FetchFunction } from './fetch-range-fetcher.js'

const body = Uint8Array.from({ length: 300_000 }, (_, i) => i & 0xff)
let server: Server
let origin: string
const seen: { headers: Record<string, string | string[] | undefined> }[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ headers: req.headers })
    if (req.url === '/ok') {
      res.writeHead(206, { 'content-range': `bytes 0-${body.length - 1}/${body.length}`, 'content-length': body.length, ETag: '"e1"' })
      res.end(body)
    } else if (req.url === '/412') {
      res.writeHead(412, { 'content-type': 'application/xml' }).end('<Error><Code>PreconditionFailed</Code></Error>')
    } else if (req.url === '/short') {
      res.writeHead(206, { 'content-length': body.length })
      res.write(body.subarray(0, 1000), () => res.socket?.destroy())
    } else if (req.url === '/stall') {
      res.writeHead(206, { 'content-length': body.length })
      res.write(body.subarray(0, 1000))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const fetcher = fetchRangeFetcher()

describe('fetchRangeFetcher', () => {
  it('sends the signed headers as given and hands the body over chunk by chunk, each awaited', async () => {
    const chunks: number[] = []
    let inFlight = 0
    const res = await fetcher.get({
      url: `${origin}/ok`,
      headers: { Range: 'bytes=0-299999', 'If-Match': '"e1"' },
      signal: new AbortController().signal,
      async onChunk(chunk) {
        expect(inFlight).toBe(0)
        inFlight++
        chunks.push(chunk.byteLength)
        await new Promise((r) => setTimeout(r, 1))
        inFlight--
      },
    })
    expect(res).toMatchObject({ status: 206, body: '' })
    expect(res.headers['content-range']).toBe('bytes 0-299999/300000')
    expect(res.headers.etag).toBe('"e1"')
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(body.length)
    expect(seen.at(-1)!.headers).toMatchObject({ range: 'bytes=0-299999', 'if-match': '"e1"' })
  })

  it('reads a non-2xx answer as text and never calls onChunk', async () => {
    const res = await fetcher.get({ url: `${origin}/412`, headers: {}, signal: new AbortController().signal, onChunk: () => expect.fail('no chunk') })
    expect(res.status).toBe(412)
    expect(res.body).toContain('PreconditionFailed')
  })

  it('a body cut short is a network_error', async () => {
    const error = await fetcher.get({ url: `${origin}/short`, headers: {}, signal: new AbortController().signal, onChunk: () => {} }).catch((e: unknown) => e)
    expect(isValetError(error) && error.code).toBe('network_error')
  })

  it('no connection is a network_error', async () => {
    const error = await fetcher.get({ url: 'http://127.0.0.1:1/x', headers: {}, signal: new AbortController().signal, onChunk: () => {} }).catch((e: unknown) => e)
    expect(isValetError(error) && error.code).toBe('network_error')
  })

  it('aborting mid-body rejects with the signal’s reason', async () => {
    const controller = new AbortController()
    const reason = new Error('paused by the test')
    const got = fetcher.get({ url: `${origin}/stall`, headers: {}, signal: controller.signal, onChunk: () => controller.abort(reason) })
    await expect(got).rejects.toBe(reason)
  })

  it('what onChunk throws is passed on as it is', async () => {
    const boom = new Error('disk full')
    await expect(fetcher.get({ url: `${origin}/ok`, headers: {}, signal: new AbortController().signal, onChunk: () => Promise.reject(boom) })).rejects.toBe(boom)
  })

  it('asks fetch for no cache and no credentials', async () => {
    let init: RequestInit | undefined
    const fake: FetchFunction = async (_url, i) => {
      init = i
      return new Response('', { status: 404 })
    }
    await fetchRangeFetcher(fake).get({ url: 'http://x/', headers: { a: 'b' }, signal: new AbortController().signal, onChunk: () => {} })
    expect(init).toMatchObject({ method: 'GET', headers: { a: 'b' }, cache: 'no-store', credentials: 'omit' })
  })
})
