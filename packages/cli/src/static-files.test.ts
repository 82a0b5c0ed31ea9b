import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtInPage, staticHandler } from './static-files.js'

let root: string
let outside: string
const servers: Server[] = []

async function serve(dir: string | undefined): Promise<string> {
  const handler = staticHandler(dir, builtInPage('http://127.0.0.1:3000/api/valet'))
  const server = createServer((req, res) => void handler(req, res))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'valet-static-'))
  outside = await mkdtemp(join(tmpdir(), 'valet-outside-'))
  await writeFile(join(root, 'index.html'), '<h1>hi</h1>')
  await mkdir(join(root, 'js'))
  await writeFile(join(root, 'js/app.js'), 'export {}')
  await writeFile(join(outside, 'secret.txt'), 'nope')
  await symlink(join(outside, 'secret.txt'), join(root, 'leak.txt'))
})

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  await rm(root, { recursive: true, force: true })
  await rm(outside, { recursive: true, force: true })
})

describe('staticHandler', () => {
  it('serves index.html at / and files with their type', async () => {
    const base = await serve(root)
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toMatch(/text\/html/)
    expect(await index.text()).toBe('<h1>hi</h1>')
    const js = await fetch(`${base}/js/app.js`)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    const dir = await fetch(`${base}/js`, { redirect: 'manual' })
    expect(dir.status).toBe(301)
    expect(dir.headers.get('location')).toBe('/js/')
  })

  it('never serves outside its root, by path or by symlink', async () => {
    const base = await serve(root)
    expect((await fetch(`${base}/..%2f..%2fetc%2fpasswd`)).status).toBe(404)
    expect((await fetch(`${base}/leak.txt`)).status).toBe(404)
    expect((await fetch(`${base}/missing.html`)).status).toBe(404)
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405)
  })

  it('serves the built-in page when there is no folder', async () => {
    const base = await serve(undefined)
    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('http://127.0.0.1:3000/api/valet')
    expect((await fetch(`${base}/app.js`)).status).toBe(404)
  })
})
