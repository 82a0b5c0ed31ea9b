/**
 * Each framework example, run as its README says (`node server.mjs` via `pnpm start`), with its
 * own local Azurite: a real upload through it with @valet/client, and its auth and CORS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUploader } from '@valet/client'
import { MiB } from '@valet/protocol'
import { generate } from '../support/key-endpoint.js'
import { freePort } from '../support/free-port.js'

describe.each(['node-http', 'express', 'fastify', 'hono'])('examples/%s', (name) => {
  let child: ChildProcess
  let endpoint: string
  let cwd: string

  beforeAll(async () => {
    const port = await freePort()
    cwd = mkdtempSync(join(tmpdir(), `valet-example-${name}-`))
    child = spawn(process.execPath, [resolve('examples', name, 'server.mjs')], { cwd, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${name} did not start: ${output}`)), 30_000)
      const onData = (chunk: Buffer) => {
        output += chunk
        if (output.includes('key endpoint:')) (clearTimeout(timer), ok())
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', onData)
      child.once('exit', (code) => fail(new Error(`${name} exited ${code}: ${output}`)))
    })
    endpoint = `http://127.0.0.1:${port}/api/valet`
  })

  afterAll(async () => {
    child.kill('SIGINT')
    await new Promise((ok) => (child.exitCode !== null ? ok(null) : child.once('exit', ok)))
    rmSync(cwd, { recursive: true, force: true })
  })

  it('uploads for a signed-in user and refuses anonymous callers', async () => {
    const data = generate(6 * MiB, 3)
    const uploader = createUploader({ endpoint, headers: { authorization: 'Bearer demo-alice' }, resume: false, partSize: 5 * MiB })
    const result = await uploader.upload(data, { name: 'photo.jpg', type: 'image/jpeg' }).done
    expect(result).toMatchObject({ size: data.length, result: { ok: true } })
    expect(result.key).toMatch(/^alice\//)
    const anonymous = await fetch(`${endpoint}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a","size":1}' })
    expect(anonymous.status).toBe(401)
  })

  it('answers CORS preflights for the allowed origin', async () => {
    const res = await fetch(`${endpoint}/uploads`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
  })
})
