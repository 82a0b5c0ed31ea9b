/**
 * Attacks 5, 6 and 10 of issue 12, over real HTTP: another site's page writing through
 * `valet dev` or an app's key endpoint (CORS, CSRF by simple request, DNS rebinding), one
 * principal opening uploads without end, and connections held open by trickling bodies.
 */
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { startDevServer } from '@valet/cli'
import { keyEndpoint } from '../support/key-endpoint.js'
import { storageCases, swiftCase } from '../support/storages.js'
import { AttackLog } from './attack-log.js'

const log = new AttackLog('requests')
afterAll(() => log.write())

async function serve(listener: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(listener)
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}`, port }
}

describe('valet dev (5)', () => {
  it('answers CORS only for its own page and --cors-origin pages, and only under its own host names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'valet-dev-cors-'))
    const dev = await startDevServer({ port: 0, host: '127.0.0.1', dir, staticDir: undefined, corsOrigins: ['http://localhost:5173'], storage: { kind: 'azurite' } })
    try {
      const preflight = (origin: string) =>
        fetch(`${dev.endpoint}/uploads`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
      const evil = await preflight('https://evil.example')
      const own = await preflight(new URL(dev.url).origin)
      const listed = await preflight('http://localhost:5173')
      expect([evil.status, evil.headers.get('access-control-allow-origin')]).toEqual([403, null])
      expect(own.headers.get('access-control-allow-origin')).toBe(new URL(dev.url).origin)
      expect(listed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
      // The cross-site POST itself (no preflight needed if it were a simple request): refused.
      const simple = await fetch(`${dev.endpoint}/uploads`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{"name":"a","size":1}' })
      expect(simple.status).toBe(415)
      // DNS rebinding: evil.example resolving to 127.0.0.1 sends its own Host.
      const rebound = await new Promise<string>((ok, fail) => {
        const socket = connect(dev.port, '127.0.0.1', () => socket.end(`GET /api/valet/uploads HTTP/1.1\r\nHost: evil.example:${dev.port}\r\nConnection: close\r\n\r\n`))
        let text = ''
        socket.on('data', (d) => (text += d)).on('end', () => ok(text.split('\r\n')[0]!)).on('error', fail)
      })
      expect(rebound).toMatch(/^HTTP\/1\.1 421/)
      log.record({ group: '5', attack: 'a page on another site calls valet dev (preflight, text/plain POST, DNS rebinding)', store: 'any', outcome: `preflight ${evil.status} without CORS headers; text/plain POST ${simple.status}; foreign Host 421; own page and --cors-origin allowed`, refused: true })
    } finally {
      await dev.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.each(storageCases.map((make) => [make().name, make] as const))('%s (6, 10)', (store, makeCase) => {
  const storage = makeCase()

  it('6: a cross-site POST sent as a simple request (text/plain, form) is refused before authorize', async () => {
    let authorized = 0
    const user = `csrf-${store}`
    const { valet } = keyEndpoint(storage.provider(), { authorize: () => (authorized++, { id: user }) })
    const { server, url } = await serve(toNodeListener(valet))
    try {
      const statuses = []
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=b']) {
        const res = await fetch(`${url}/uploads`, { method: 'POST', headers: { 'content-type': type, origin: 'https://evil.example', cookie: 'session=victim' }, body: '{"name":"a.bin","size":1}' })
        statuses.push(res.status)
      }
      expect(statuses).toEqual([415, 415, 415])
      expect(authorized).toBe(0)
      expect(await storage.openUploads(principalPrefix(user))).toBe(0)
      log.record({ group: '6', attack: 'POST /uploads as text/plain, form-urlencoded, multipart (CORS simple requests)', store, outcome: `${statuses.join('/')} unsupported_media_type before authorize; no upload in storage`, refused: true })
    } finally {
      server.close()
    }
  })

  it('10: one principal cannot open more than maxOpenUploads (default 32), counted in storage', async () => {
    const user = `hoarder-${store}-${Date.now()}`
    const { call } = keyEndpoint(storage.provider(), { authorize: () => ({ id: user }) })
    const opened: { uploadId: string; token: string }[] = []
    for (let i = 0; i < 32; i++) {
      const res = await call('POST', '/uploads', { name: `f${i}.bin`, size: 6 * MiB })
      expect(res.status, `create ${i + 1}`).toBe(201)
      opened.push(res.body)
    }
    const more = await call('POST', '/uploads', { name: 'one-more.bin', size: 6 * MiB })
    expect([more.status, more.body.error.code]).toEqual([429, 'too_many_uploads'])
    expect(await storage.openUploads(principalPrefix(user))).toBe(32)
    await call('DELETE', `/uploads/${encodeURIComponent(opened[0]!.uploadId)}`, undefined, { 'valet-token': opened[0]!.token })
    expect((await call('POST', '/uploads', { name: 'after-abort.bin', size: 6 * MiB })).status).toBe(201)
    log.record({ group: '10', attack: '33 concurrent uploads from one principal', store, outcome: `32 × 201, then 429 too_many_uploads; a slot frees on abort`, refused: true })
    await Promise.all(opened.slice(1).map((u) => call('DELETE', `/uploads/${encodeURIComponent(u.uploadId)}`, undefined, { 'valet-token': u.token })))
  })
})

describe('trickling bodies (10)', () => {
  it('are cut after a few seconds, before any storage call, and the connections closed', async () => {
    const storage = swiftCase()
    const { valet } = keyEndpoint(storage.provider(), { authorize: () => ({ id: 'trickler' }) })
    const { server, port } = await serve(toNodeListener(valet))
    const started = Date.now()
    const closedAt: number[] = []
    const statuses = new Set<string>()
    const sockets = Array.from({ length: 100 }, () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
      })
      const drip = setInterval(() => socket.writable && socket.write(' '), 2_000)
      // Read what the server says, so its closing the connection is seen when it happens.
      socket.on('data', (d) => statuses.add(String(d).split('\r\n')[0]!))
      socket.on('close', () => (clearInterval(drip), closedAt.push(Date.now() - started)))
      socket.on('error', () => {})
      return socket
    })
    try {
      await new Promise((r) => setTimeout(r, 9_000))
      expect(closedAt.length, 'connections the server closed within 9 s').toBe(100)
      expect(Math.max(...closedAt)).toBeLessThan(7_000)
      expect([...statuses]).toEqual(['HTTP/1.1 408 Request Timeout'])
      expect(await storage.openUploads(principalPrefix('trickler'))).toBe(0)
      log.record({ group: '10', attack: '100 connections trickling a body one byte every 2 s', store: 'any', outcome: `408 request_timeout; all cut by the server in ${(Math.max(...closedAt) / 1000).toFixed(1)} s (body deadline 5 s + 16 KiB/s); no storage call`, refused: true })
    } finally {
      for (const s of sockets) s.destroy()
      server.close()
    }
  })
})
