import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { lockDestination, lockPath } from './destination-lock.js'
import { prepareNodeDestination } from './file-staging.js'

const NEVER = new AbortController().signal
let dir = ''
let dest = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'valet-lock-'))
  dest = join(dir, 'out.bin')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The pid of a process that has exited (its number is not reused within the test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

async function refused(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err)
  expect(isValetError(e) && e.code).toBe('invalid_option')
  return (e as Error).message
}

describe('lockDestination', () => {
  it('one holder at a time; released, it can be taken again; the lock names its holder', async () => {
    const release = await lockDestination(dest)
    expect(JSON.parse(await readFile(lockPath(dest), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() })
    expect(await refused(lockDestination(dest))).toMatch(/already being downloaded by this process/)
    await release()
    expect(existsSync(lockPath(dest))).toBe(false)
    await (await lockDestination(dest))()
  })

  it('takes over a lock whose process is gone (kill -9), and only that one', async () => {
    await writeFile(lockPath(dest), JSON.stringify({ pid: deadPid(), host: hostname(), since: new Date().toISOString() }))
    const release = await lockDestination(dest)
    expect(JSON.parse(await readFile(lockPath(dest), 'utf8')).pid).toBe(process.pid)
    await release()
    expect(await readdir(dir)).toEqual([]) // nothing set aside is left
  })

  it('refuses a live process’s lock and one from another host, naming them and the file to delete', async () => {
    await writeFile(lockPath(dest), JSON.stringify({ pid: process.ppid, host: hostname(), since: new Date().toISOString() }))
    expect(await refused(lockDestination(dest))).toContain(`process ${process.ppid} on ${hostname()}`)
    await writeFile(lockPath(dest), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', since: new Date().toISOString() }))
    const message = await refused(lockDestination(dest))
    expect(message).toContain('on elsewhere.example')
    expect(message).toContain(`delete ${lockPath(dest)}`)
  })

  it('an unreadable lock is someone still writing it, until it is old', async () => {
    await writeFile(lockPath(dest), '')
    expect(await refused(lockDestination(dest))).toMatch(/another run/)
    const old = new Date(Date.now() - 60_000)
    await utimes(lockPath(dest), old, old)
    await (await lockDestination(dest))()
  })

  it('a download sink holds the lock until it is closed, finished or discarded', async () => {
    const plan = { fingerprint: 'ab'.repeat(16), key: 'k', size: 4, etag: '"e"', resume: true }
    const sink = await prepareNodeDestination(dest).open(plan, NEVER)
    expect(await refused(prepareNodeDestination(dest).open(plan, NEVER))).toMatch(/already being downloaded/)
    await sink.close()
    const again = await prepareNodeDestination(dest).open(plan, NEVER)
    const w = await again.writer(0, 4)
    await w.write(new Uint8Array([1, 2, 3, 4]))
    await w.commit()
    await again.finish(NEVER)
    expect(existsSync(lockPath(dest))).toBe(false)
    await (await prepareNodeDestination(dest).open(plan, NEVER)).discard()
    expect(await readdir(dir)).toEqual(['out.bin'])
  })
})
