/**
 * Every adapter on its real framework, on 127.0.0.1, mounted under a non-root prefix: a real
 * upload with @valet/client to Azurite, the user's auth passed through, the body cap enforced
 * and protocol error bodies returned unchanged. The frameworks are the point here, so each mounts
 * the kit's valet (test/support/key-endpoint.ts) itself rather than the kit's node:http server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import type { Valet } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { fastifyValet } from '@valet/server/fastify'
import { honoValet } from '@valet/server/hono'
import { toNextHandlers } from '@valet/server/next'
import { createUploader } from '@valet/client'
import { MiB } from '@valet/protocol'
import { generate, sha256, testValet } from '../support/key-endpoint.js'
import { azuriteCase } from '../support/storages.js'

const PREFIX = '/v1/files/valet'
const storage = azuriteCase()

/** Each framework reads the user its own way; all must reach `authorize` intact. */
function makeValet(): Valet {
  return testValet(storage.provider(), {
    authorize: (request) => {
      const auth = request.headers.get('authorization')
      return auth?.startsWith('Bearer user-') ? { id: auth.slice('Bearer '.length) } : null
    },
  })
}

type Started = { url: string; close: () => Promise<void> }

const listen = (server: Server) =>
  new Promise<Started>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PREFIX}`,
        close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  )

const adapters: Record<string, () => Promise<Started>> = {
  'node:http': () => {
    const listener = toNodeListener(makeValet())
    return listen(createServer((req, res) => (req.url?.startsWith(PREFIX) ? listener(req, res) : res.writeHead(404).end())))
  },
  'express (after express.json())': () => {
    const app = express()
    app.use(express.json({ limit: '5mb' }))
    app.use(PREFIX, toNodeListener(makeValet()))
    return listen(createServer(app))
  },
  'express (no body parser)': () => {
    const app = express()
    app.use(PREFIX, toNodeListener(makeValet()))
    return listen(createServer(app))
  },
  fastify: async () => {
    const app = Fastify({ forceCloseConnections: true })
    await app.register(fastifyValet(makeValet()), { prefix: PREFIX })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `${address}${PREFIX}`, close: () => app.close() }
  },
  hono: async () => {
    const app = new Hono()
    app.route(PREFIX, honoValet(makeValet()))
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve({
          url: `http://127.0.0.1:${info.port}${PREFIX}`,
          close: () => new Promise((r) => {
            server.close(() => r())
            ;(server as Server).closeAllConnections()
          }),
        }),
      )
    })
  },
  'next route handlers (called with Request)': async () => {
    // Next's App Router hands route handlers Web Requests: serve them the same way here.
    const handlers = toNextHandlers(makeValet())
    const viaNext = { fetch: (request: Request) => handlers[request.method as 'GET' | 'POST' | 'DELETE'](request) }
    return listen(createServer(toNodeListener(viaNext)))
  },
}

describe.each(Object.keys(adapters))('%s adapter', (name) => {
  let server: Started
  beforeAll(async () => {
    server = await adapters[name]!()
  })
  afterAll(() => server.close())

  it('completes a real upload with @valet/client', async () => {
    const data = generate(11 * MiB + 7, 31)
    const uploader = createUploader({ endpoint: server.url, headers: { authorization: 'Bearer user-42' }, resume: false, partSize: 5 * MiB, concurrency: 2 })
    const result = await uploader.upload(data, { name: 'report.pdf', type: 'application/pdf' }).done
    expect(result.key).toMatch(/^user-42\//)
    expect(result.size).toBe(data.length)
    expect(sha256((await storage.read(result.key))!.bytes)).toBe(sha256(data))
  })

  it('passes authentication through and returns protocol errors unchanged', async () => {
    const anonymous = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', size: 1 }) })
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toEqual({ error: { code: 'unauthorized', message: 'authentication required' } })
    const bad = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: 'Bearer user-1', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', size: -1 }) })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: { code: 'bad_request', message: 'size must be between 1 and 9007199254740991' } })
  })

  it('enforces the 1 MiB body cap', async () => {
    const res = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { authorization: 'Bearer user-1', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a', size: 1, pad: 'x'.repeat(2 * MiB) }),
    })
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('payload_too_large')
  })
})
