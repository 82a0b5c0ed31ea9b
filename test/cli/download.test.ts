/**
 * The built `valet download` on real storage (Swift s3api and Azurite), against the kit's key
 * server (the real createValet with `canRead`: a principal reads its own prefix only), objects
 * put there by the built `valet upload`:
 * - a round trip: the files read back have the uploaded bytes (sha256), one JSON line each;
 * - SIGKILL mid-way (ranged GETs slowed by a reverse proxy in front of storage), then a rerun:
 *   only the ranges the killed run had not finished are fetched (counted at the proxy), the file
 *   equals the upload, and neither the staging file nor the state is left;
 * - SIGINT: paused (exit 130, a `paused` line), the rerun finishes;
 * - a principal canRead refuses: exit 1, a clear message, nothing written.
 *
 * Runs `packages/cli/dist/bin.js`: `pnpm test` builds first (run `pnpm run build` by hand otherwise).
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { principalPrefix, type ValetOptions } from '@valet/server'
import { byUserHeader, generate, sha256 } from '../support/key-endpoint.js'
import { startKeyServer, type KeyServer } from '../support/key-server.js'
import { providerAt, storageEndpoint, type StorageCase } from '../support/storages.js'
import { startRangeProxy, type RangeProxy } from './range-proxy.js'
import { BIN, runValet, until, type Run } from './run-cli.js'

const MiB = 1024 * 1024
const PART = 5 * MiB

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function jsonLines(text: string): Record<string, any>[] {
  return text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}

const canRead: ValetOptions['canRead'] = ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`)

interface Stack {
  proxy: RangeProxy
  keys: KeyServer
}
const stacks = new Map<StorageCase['name'], Stack>()
let work: string

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = await mkdtemp(join(tmpdir(), 'valet-download-'))
  for (const name of ['swift', 'azurite'] as const) {
    const proxy = await startRangeProxy(storageEndpoint(name))
    // Every storage call, the key server's and the CLI's, goes through the proxy: keys name it.
    const keys = await startKeyServer(providerAt(name, proxy.endpointFor(storageEndpoint(name))), { authorize: byUserHeader(), canRead })
    stacks.set(name, { proxy, keys })
  }
})

afterAll(async () => {
  for (const { proxy, keys } of stacks.values()) {
    await keys.close()
    await proxy.close()
  }
  if (work) await rm(work, { recursive: true, force: true })
})

/** Uploads `files` (name → bytes) as `user` with the built CLI; their JSON lines by name. */
async function upload(stack: Stack, user: string, files: Record<string, Uint8Array>, dir: string): Promise<Map<string, Record<string, any>>> {
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes)
  const run = runValet(
    ['upload', ...Object.keys(files), '--endpoint', stack.keys.endpoint, '--json', '--part-size', '5MiB', '--state-dir', join(dir, '.up-state'), '--header', `x-user: ${user}`],
    { cwd: dir },
  )
  expect((await run.exit).code, run.stderr()).toBe(0)
  return new Map(jsonLines(run.stdout()).map((l) => [l.name as string, l]))
}

function download(stack: Stack, user: string, keys: string[], cwd: string, extra: string[] = []): Run {
  return runValet(['download', ...keys, '--endpoint', stack.keys.endpoint, '--out', 'got', '--state-dir', 'dl-state', '--header', `x-user: ${user}`, ...extra], { cwd })
}

/** What a download leaves beside its files and in its state dir. */
/** Staging files (`.valet-partial`, `.valet-lock`) in the output folder, state files in the state dir. */
async function leftovers(dir: string): Promise<{ partial: string[]; state: string[] }> {
  const list = async (d: string) => (existsSync(d) ? await readdir(d) : [])
  return { partial: (await list(join(dir, 'got'))).filter((n) => /\.valet-(partial|lock)$/.test(n)).sort(), state: (await list(join(dir, 'dl-state'))).filter((n) => n.endsWith('.json')) }
}

async function newDir(label: string): Promise<string> {
  return mkdtemp(join(work, `${label}-`))
}

describe.each(['swift', 'azurite'] as const)('valet download (built CLI) on %s', (storage) => {
  it('round trip: files read back equal the uploads (sha256), one JSON line each, nothing left behind', async () => {
    const stack = stacks.get(storage)!
    const dir = await newDir(`rt-${storage}`)
    const user = `dl-${randomUUID()}`
    const files = { 'big.bin': generate(12 * MiB + 123, 31), 'small.txt': new TextEncoder().encode('hello valet download\n') }
    const uploaded = await upload(stack, user, files, dir)
    const run = download(stack, user, [uploaded.get('big.bin')!.key, uploaded.get('small.txt')!.key], dir, ['--json'])
    expect((await run.exit).code, run.stderr()).toBe(0)
    const lines = jsonLines(run.stdout())
    expect(lines).toHaveLength(2)
    for (const [name, bytes] of Object.entries(files)) {
      const up = uploaded.get(name)!
      const line = lines.find((l) => l.key === up.key)
      expect(line, name).toEqual({ key: up.key, path: join(dir, 'got', name), size: bytes.byteLength, etag: up.etag, type: expect.any(String), verified: expect.any(String), bytesResumed: 0 })
      expect(sha256(await readFile(join(dir, 'got', name))), name).toBe(sha256(bytes))
    }
    // The multipart upload left a part manifest: every part is checked against its MD5.
    expect(lines.find((l) => l.key === uploaded.get('big.bin')!.key)!.verified).toBe('parts')
    expect(['md5', 'parts']).toContain(lines.find((l) => l.key === uploaded.get('small.txt')!.key)!.verified)
    expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
  })

  it('a principal canRead refuses: exit 1, forbidden named, nothing written', async () => {
    const stack = stacks.get(storage)!
    const dir = await newDir(`refused-${storage}`)
    const owner = `dl-owner-${randomUUID()}`
    const uploaded = await upload(stack, owner, { 'mine.bin': generate(1000, 5) }, dir)
    const key = uploaded.get('mine.bin')!.key
    const calls = stack.keys.calls.length
    const json = download(stack, `dl-intruder-${randomUUID()}`, [key], dir, ['--json'])
    expect((await json.exit).code).toBe(1)
    expect(jsonLines(json.stdout())).toEqual([{ key, path: join(dir, 'got', 'mine.bin'), error: { code: 'forbidden', message: expect.any(String) } }])
    const plain = download(stack, `dl-intruder-${randomUUID()}`, [key], dir)
    expect((await plain.exit).code).toBe(1)
    expect(plain.stdout()).toContain(`failed ${key} → got/mine.bin: forbidden: `)
    expect(plain.stdout()).toMatch(/^0 of 1 file downloaded \(0 B\) in [\d.]+s, 1 failed$/m)
    // canRead said no before any read key was signed.
    expect(stack.keys.calls.slice(calls).filter((c) => c.path.endsWith('/downloads/ranges'))).toEqual([])
    expect(existsSync(join(dir, 'got', 'mine.bin'))).toBe(false)
    expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
  })
})

describe('valet download (built CLI) against an endpoint that does not read', () => {
  it('exits 1 with the server\'s reason (no canRead) on each file', async () => {
    const keys = await startKeyServer(providerAt('swift'), { authorize: byUserHeader() })
    try {
      const dir = await newDir('no-read')
      const run = runValet(['download', 'u/1/a.bin', '--endpoint', keys.endpoint, '--out', 'got', '--state-dir', 'dl-state', '--header', 'x-user: u', '--json'], { cwd: dir })
      expect((await run.exit).code).toBe(1)
      const [line] = jsonLines(run.stdout())
      expect(line).toMatchObject({ key: 'u/1/a.bin', error: { code: 'not_found', message: expect.stringMatching(/canRead/) } })
      expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
    } finally {
      await keys.close()
    }
  })
})

describe('valet download (built CLI) interrupted, on Swift s3api', () => {
  const SIZE = 40 * MiB
  const RANGES = SIZE / PART
  const rangeOf = (i: number) => `bytes=${i * PART}-${Math.min((i + 1) * PART, SIZE) - 1}`

  it('SIGKILL mid-way, rerun: only the missing ranges are fetched, the file equals the upload, no staging or state left', async () => {
    const stack = stacks.get('swift')!
    const dir = await newDir('kill')
    const user = `dl-kill-${randomUUID()}`
    const bytes = generate(SIZE, 41)
    const uploaded = (await upload(stack, user, { 'large.bin': bytes }, dir)).get('large.bin')!

    stack.proxy.rate = 8 * MiB // about 5 s for the object: slow enough to cut it half-way
    const from = stack.proxy.gets.length
    const first = download(stack, user, [uploaded.key], dir, ['--json', '--concurrency', '2'])
    await until('three ranges delivered', () => (stack.proxy.gets.slice(from).filter((g) => g.delivered).length >= 3 ? true : undefined), 30_000, first)
    first.child.kill('SIGKILL')
    expect((await first.exit).signal).toBe('SIGKILL')
    const killedGets = stack.proxy.gets.slice(from)
    // Cut off mid-way: some GETs had no answer yet (status 0); every answer was a 206.
    expect(killedGets.every((g) => g.status === 206 || g.status === 0), JSON.stringify(killedGets)).toBe(true)

    const left = await leftovers(dir)
    // The lock of a process that is gone: the rerun takes it over.
    expect(left.partial, 'the killed run keeps its staging file, and leaves its lock').toEqual(['large.bin.valet-lock', 'large.bin.valet-partial'])
    expect(left.state, 'and its state').toHaveLength(1)
    expect(existsSync(join(dir, 'got', 'large.bin')), 'no file before it is whole and verified').toBe(false)
    const state = JSON.parse(await readFile(join(dir, 'dl-state', left.state[0]!), 'utf8')) as { key: string; size: number; done: number[] }
    expect(state).toMatchObject({ key: uploaded.key, size: SIZE })
    expect(state.done.length, 'ranges the killed run finished').toBeGreaterThanOrEqual(1)
    expect(state.done.length).toBeLessThan(RANGES)

    stack.proxy.rate = Number.POSITIVE_INFINITY
    const again = stack.proxy.gets.length
    const second = download(stack, user, [uploaded.key], dir, ['--json', '--concurrency', '2'])
    expect((await second.exit).code, second.stderr()).toBe(0)
    const fetched = stack.proxy.gets.slice(again).map((g) => g.range).sort()
    const missing = Array.from({ length: RANGES }, (_, i) => i).filter((i) => !state.done.includes(i)).map(rangeOf).sort()
    expect(fetched, 'the rerun fetches exactly the ranges the state does not call done').toEqual(missing)
    const [line] = jsonLines(second.stdout())
    expect(line).toMatchObject({ key: uploaded.key, size: SIZE, etag: uploaded.etag, verified: 'parts', bytesResumed: state.done.reduce((sum, i) => sum + Math.min(PART, SIZE - i * PART), 0) })
    expect(sha256(await readFile(join(dir, 'got', 'large.bin')))).toBe(sha256(bytes))
    expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
  })

  it('SIGINT pauses (exit 130, a paused line, state kept) and the rerun finishes', async () => {
    const stack = stacks.get('swift')!
    const dir = await newDir('int')
    const user = `dl-int-${randomUUID()}`
    const bytes = generate(20 * MiB, 42)
    const uploaded = (await upload(stack, user, { 'paused.bin': bytes }, dir)).get('paused.bin')!

    stack.proxy.rate = 4 * MiB
    const from = stack.proxy.gets.length
    const first = download(stack, user, [uploaded.key], dir, ['--json', '--concurrency', '2'])
    await until('a range delivered', () => (stack.proxy.gets.slice(from).some((g) => g.delivered) ? true : undefined), 30_000, first)
    first.child.kill('SIGINT')
    expect((await first.exit).code, first.stderr()).toBe(130)
    expect(jsonLines(first.stdout())).toEqual([{ key: uploaded.key, path: join(dir, 'got', 'paused.bin'), error: { code: 'paused', message: expect.any(String) } }])
    expect((await leftovers(dir)).state).toHaveLength(1)

    stack.proxy.rate = Number.POSITIVE_INFINITY
    const second = download(stack, user, [uploaded.key], dir, ['--json'])
    expect((await second.exit).code, second.stderr()).toBe(0)
    expect(jsonLines(second.stdout())[0]).toMatchObject({ key: uploaded.key, size: bytes.byteLength, bytesResumed: expect.any(Number) })
    expect(jsonLines(second.stdout())[0]!.bytesResumed).toBeGreaterThan(0)
    expect(sha256(await readFile(join(dir, 'got', 'paused.bin')))).toBe(sha256(bytes))
    expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
  })

  it('a second run to the same file while the first is on it: refused at once (exit 1, the holder named); the first finishes', async () => {
    const stack = stacks.get('swift')!
    const dir = await newDir('twice')
    const user = `dl-twice-${randomUUID()}`
    const bytes = generate(20 * MiB, 43)
    const uploaded = (await upload(stack, user, { 'shared.bin': bytes }, dir)).get('shared.bin')!

    stack.proxy.rate = 4 * MiB
    const from = stack.proxy.gets.length
    const first = download(stack, user, [uploaded.key], dir, ['--json', '--concurrency', '2'])
    await until('a range delivered', () => (stack.proxy.gets.slice(from).some((g) => g.delivered) ? true : undefined), 30_000, first)
    const second = download(stack, user, [uploaded.key], dir, ['--json'])
    expect((await second.exit).code, second.stderr()).toBe(1)
    const [refusal] = jsonLines(second.stdout())
    expect(refusal).toMatchObject({ key: uploaded.key, error: { code: 'invalid_option', message: expect.stringContaining(`by process ${first.child.pid} on`) } })

    stack.proxy.rate = Number.POSITIVE_INFINITY
    expect((await first.exit).code, first.stderr()).toBe(0)
    expect(sha256(await readFile(join(dir, 'got', 'shared.bin')))).toBe(sha256(bytes))
    expect(await leftovers(dir)).toEqual({ partial: [], state: [] })
  })
})
