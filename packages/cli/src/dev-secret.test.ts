import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateSecret } from './dev-secret.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'valet-secret-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('loadOrCreateSecret', () => {
  it('creates a private 32-byte secret once and returns the same one afterwards', async () => {
    const first = await loadOrCreateSecret(join(dir, 'a'))
    expect(first).toMatch(/^[0-9a-f]{64}$/)
    expect((await stat(join(dir, 'a', 'secret'))).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateSecret(join(dir, 'a'))).toBe(first)
    const racing = await Promise.all([loadOrCreateSecret(join(dir, 'b')), loadOrCreateSecret(join(dir, 'b'))])
    expect(racing[0]).toBe(racing[1])
  })

  it('replaces a secret too short to sign tokens', async () => {
    await loadOrCreateSecret(join(dir, 'c'))
    await writeFile(join(dir, 'c', 'secret'), 'short\n')
    const replaced = await loadOrCreateSecret(join(dir, 'c'))
    expect(replaced).toMatch(/^[0-9a-f]{64}$/)
    expect((await readFile(join(dir, 'c', 'secret'), 'utf8')).trim()).toBe(replaced)
  })
})
