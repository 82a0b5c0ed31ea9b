import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { nodePlatform } from './node-platform.js'
import { openPathSource } from './path-source.js'
import type { NodeBody } from './file-range.js'
import { SEND_CHUNK } from './node-adapter.js'

const MiB = 1024 * 1024
const live = new AbortController().signal
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  md5: string
  bytes: number
}

/** A server that hashes every body it gets; `/moved` answers 307 to `/here` on `target`. */
async function listen(target?: () => string): Promise<{ server: Server; origin: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const hash = createHash('md5')
    let bytes = 0
    req.on('data', (c: Buffer) => {
      hash.update(c)
      bytes += c.length
    })
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, md5: hash.digest('hex'), bytes })
      if (req.url === '/moved' && target) res.writeHead(307, { location: `${target()}/here` }).end()
      else res.writeHead(200, { etag: '"e"' }).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

describe('the Node adapter', () => {
  const transport = nodePlatform().transport
  let a: Awaited<ReturnType<typeof listen>>
  let b: Awaited<ReturnType<typeof listen>>
  let dir: string
  beforeAll(async () => {
    b = await listen()
    a = await listen(() => b.origin)
    dir = mkdtempSync(join(tmpdir(), 'valet-adapter-'))
  })
  afterAll(() => {
    a.server.close()
    b.server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sends file ranges intact from reused buffers, 8 at once, progress up to each size', async () => {
    const data = createHash('sha512').update('seed').digest()
    const big = Buffer.alloc(9 * MiB + 12_345)
    for (let i = 0; i < big.length; i += data.length) data.copy(big, i)
    for (let i = 0; i < big.length; i += 4099) big[i] = i & 0xff
    const path = join(dir, 'big.bin')
    writeFileSync(path, big)
    const source = await openPathSource(path)
    const ranges = Array.from({ length: 8 }, (_, i) => [Math.floor((i * big.length) / 8), Math.floor(((i + 1) * big.length) / 8)] as const)
    // Round trips several times over, so buffers come back from earlier writes and are reused.
    for (let round = 0; round < 3; round++) {
      a.seen.length = 0
      const progress: number[][] = ranges.map(() => [])
      const answers = await Promise.all(
        ranges.map(async ([start, end], i) =>
          transport.request({ method: 'PUT', url: `${a.origin}/part/${i}`, headers: {}, body: (await source.read(start, end, live)) as NodeBody, signal: live, onUploadProgress: (n) => progress[i]!.push(n) }),
        ),
      )
      expect(answers.map((r) => r.status)).toEqual(ranges.map(() => 200))
      for (const [i, [start, end]] of ranges.entries()) {
        const got = a.seen.find((s) => s.url === `/part/${i}`)!
        expect([got.bytes, got.md5, got.headers['content-length']]).toEqual([end - start, md5(big.subarray(start, end)), String(end - start)])
        expect(got.headers['user-agent']).toMatch(/^valet-client \(node v\d+/)
        expect(progress[i]!.at(-1)).toBe(end - start)
        expect(progress[i]!.every((n, k) => k === 0 || n > progress[i]![k - 1]!)).toBe(true)
        expect(progress[i]!.length).toBeGreaterThanOrEqual(Math.floor((end - start) / SEND_CHUNK))
      }
    }
    await source.close()
  })

  it('fails a part typed when its file shrinks mid-upload', async () => {
    const path = join(dir, 'shrinks.bin')
    writeFileSync(path, Buffer.alloc(3 * MiB, 7))
    const source = await openPathSource(path)
    const body = (await source.read(0, 3 * MiB, live)) as NodeBody
    truncateSync(path, MiB)
    const failure = await transport.request({ method: 'PUT', url: `${a.origin}/shrunk`, headers: {}, body, signal: live }).catch((e: unknown) => e)
    expect(isValetError(failure) && failure.code).toBe('invalid_source')
    await source.close()
  })

  it('follows a 307 for a key call, without the credentials when the origin changes; never for a part', async () => {
    a.seen.length = 0
    b.seen.length = 0
    const json = JSON.stringify({ name: 'x' })
    const res = await transport.request({ method: 'POST', url: `${a.origin}/moved`, headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: json, signal: live })
    expect(res.status).toBe(200)
    expect(b.seen.map((s) => [s.method, s.url, s.md5, s.headers.authorization, s.headers['content-type']])).toEqual([['POST', '/here', md5(Buffer.from(json)), undefined, 'application/json']])
    const part = await transport.request({ method: 'PUT', url: `${a.origin}/moved`, headers: {}, body: new Uint8Array(10) as NodeBody, signal: live })
    expect(part.status).toBe(307)
  })

  it('rejects with the abort reason when aborted mid-body', async () => {
    const path = join(dir, 'abort.bin')
    writeFileSync(path, Buffer.alloc(8 * MiB, 1))
    const source = await openPathSource(path)
    const controller = new AbortController()
    const reason = new Error('stop')
    const sending = transport.request({
      method: 'PUT',
      url: `${a.origin}/aborted`,
      headers: {},
      body: (await source.read(0, 8 * MiB, live)) as NodeBody,
      signal: controller.signal,
      onUploadProgress: () => controller.abort(reason),
    })
    await expect(sending).rejects.toBe(reason)
    await source.close()
  })
})
