import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { partialPath, prepareNodeDestination } from './file-staging.js'

const NEVER = new AbortController().signal
let dir = ''
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('file staging', () => {
  it('writes ranges in place into <dest>.valet-partial and renames only on finish', async () => {
    dir = await mkdtemp(join(tmpdir(), 'valet-staging-'))
    const dest = join(dir, 'out.bin')
    const plan = { fingerprint: 'ab'.repeat(16), key: 'k', size: 10, etag: '"e"', resume: true }
    const sink = await prepareNodeDestination(dest).open(plan, NEVER)
    expect(sink.resumed).toBe(false)
    expect((await stat(partialPath(dest))).size).toBe(10)
    const w = await sink.writer(5, 10)
    await w.write(new Uint8Array([5, 6, 7, 8, 9]))
    await w.commit()
    await sink.close()
    // A later run finds the partial file and can read back what was written.
    const again = await prepareNodeDestination(dest).open(plan, NEVER)
    expect(again.resumed).toBe(true)
    const back: number[] = []
    for await (const c of again.read(5, 10, NEVER)) back.push(...c)
    expect(back).toEqual([5, 6, 7, 8, 9])
    const head = await again.writer(0, 5)
    await head.write(new Uint8Array([0, 1]))
    await head.write(new Uint8Array([2, 3, 4]))
    await head.commit()
    const over = await again.writer(0, 5)
    expect(() => over.write(new Uint8Array(6))).toThrow(/more than/)
    expect(existsSync(dest)).toBe(false)
    expect(await again.finish(NEVER)).toEqual({ path: dest })
    expect([...(await readFile(dest))]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(existsSync(partialPath(dest))).toBe(false)
  })

  it('gathers socket-sized chunks into large writes without losing or reordering a byte', async () => {
    dir = await mkdtemp(join(tmpdir(), 'valet-staging-'))
    const dest = join(dir, 'big.bin')
    const size = 3 * 1024 * 1024 + 12345
    const data = new Uint8Array(size).map((_, i) => (i * 7 + (i >> 16)) & 0xff)
    const sink = await prepareNodeDestination(dest, { fsync: true }).open({ fingerprint: '12'.repeat(16), key: 'k', size, etag: '"e"', resume: false }, NEVER)
    const mid = 1_000_003
    for (const [start, end] of [[mid, size], [0, mid]] as const) {
      const w = await sink.writer(start, end)
      for (let at = start; at < end; at += 65_521) await w.write(data.subarray(at, Math.min(end, at + 65_521)))
      await w.commit()
    }
    // A first run reads its own staging back (whole-object MD5): the file is open for reading too.
    let back = 0
    for await (const c of sink.read(0, size, NEVER)) back += c.byteLength
    expect(back).toBe(size)
    await sink.finish(NEVER)
    expect(Buffer.compare(await readFile(dest), Buffer.from(data))).toBe(0)
  })

  it('a partial file of another size, or resume: false, starts from nothing; discard removes it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'valet-staging-'))
    const dest = join(dir, 'out.bin')
    await writeFile(partialPath(dest), new Uint8Array(3))
    const sink = await prepareNodeDestination(dest).open({ fingerprint: 'cd'.repeat(16), key: 'k', size: 8, etag: '"e"', resume: true }, NEVER)
    expect(sink.resumed).toBe(false)
    expect((await stat(partialPath(dest))).size).toBe(8)
    await sink.discard()
    expect(existsSync(partialPath(dest))).toBe(false)
  })

  it('refuses a destination that is not a path, or whose folder does not exist, saying what to fix', async () => {
    expect(() => prepareNodeDestination('')).toThrow(/file path/)
    const e = await prepareNodeDestination('/nonexistent-valet-dir/x.bin').open({ fingerprint: 'ef'.repeat(16), key: 'k', size: 1, etag: '"e"', resume: false }, NEVER).catch((x: unknown) => x)
    expect(isValetError(e) && e.code).toBe('invalid_option')
    expect(String(e)).toMatch(/does not exist; create it first/)
    dir = await mkdtemp(join(tmpdir(), 'valet-staging-'))
    const folder = await prepareNodeDestination(dir).open({ fingerprint: 'ef'.repeat(16), key: 'k', size: 1, etag: '"e"', resume: false }, NEVER).catch((x: unknown) => x)
    expect(String(folder)).toMatch(/is a folder/)
  })
})
