/**
 * The built `valet` executable end to end: `valet dev` as a subprocess (its own Azurite, key
 * endpoint and page on 127.0.0.1), `valet upload` against it, objects read back from Azurite with
 * the account key, a SIGKILL mid-upload resumed by a rerun, Ctrl+C pausing, and a clean SIGTERM.
 *
 * Runs `packages/cli/dist/bin.js`: `pnpm test` builds first (run `pnpm run build` by hand otherwise).
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate, sha256 } from '../support/key-endpoint.js'
import { azuriteCase } from '../support/storages.js'
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../scripts/azurite/start.mjs'
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js'
import { BIN, killValetDev, runValet, sleep, startValetDev, until, type Run } from './run-cli.js'

const MiB = 1024 * 1024



function valet(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Run {
  return runValet(args, { ...options, detached: true })
}

function jsonLines(text: string): Record<string, any>[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}

let work: string
let dev: Run
let endpoint: string
let azuriteEndpoint: string
let proxy: ThrottleProxy

/** An object `valet dev` stored, read back from its Azurite with the account key. */
async function readBack(key: string): Promise<Uint8Array> {
  const devAzurite = azuriteCase({ accountName: AZURITE_ACCOUNT_NAME, accountKey: AZURITE_ACCOUNT_KEY, container: 'valet-dev', endpoint: azuriteEndpoint })
  const object = await devAzurite.read(key)
  if (!object) throw new Error(`${key} is not in valet dev's Azurite`)
  return object.bytes
}

/** The saved state of a created upload; a pending create (saved before create answers) is none yet. */
async function stateFile(dir: string): Promise<{ uploadId: string; token: string; partCount: number } | undefined> {
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.json')) : []
  if (names.length === 0) return undefined
  const state = JSON.parse(await readFile(join(dir, names[0]!), 'utf8')) as { pending?: true; uploadId: string; token: string; partCount: number }
  return state.pending ? undefined : state
}

async function listedParts(state: { uploadId: string; token: string }): Promise<number> {
  const res = await fetch(`${endpoint}/uploads/${encodeURIComponent(state.uploadId)}/parts`, { headers: { 'valet-token': state.token } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { parts: unknown[] }).parts.length
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = await mkdtemp(join(tmpdir(), 'valet-cli-'))
  proxy = await startThrottleProxy()
  ;({ dev, endpoint } = await startValetDev(['dev', '--port', '0', '--dir', join(work, '.valet'), '--cors-origin', 'http://localhost:5173'], work))
  azuriteEndpoint = /storage:\s+azurite (http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1)\/valet-dev/.exec(dev.stdout())![1]!
})

afterAll(async () => {
  killValetDev(dev)
  await proxy?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('valet CLI (built), against `valet dev`', () => {
  it('serves the page and answers CORS preflights on the key endpoint', async () => {
    const page = await fetch(endpoint.replace(/api\/valet$/, ''))
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<title>[^<]*Valet/)
    // The page loads @valet/client's standalone browser build from here.
    const bundle = await fetch(endpoint.replace(/api\/valet$/, 'valet-client.js'))
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toMatch(/javascript/)
    expect(await bundle.text()).toMatch(/createUploader/)
    const preflight = await fetch(`${endpoint}/uploads`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/)
  })

  it('uploads files and a directory with --json; objects read back byte for byte', async () => {
    const files = { 'big.bin': generate(12 * MiB, 7), 'one.bin': generate(1, 8), 'tree/a.bin': generate(300 * 1024, 9), 'tree/sub/b.txt': new TextEncoder().encode('hello valet\n') }
    for (const [path, bytes] of Object.entries(files)) {
      await mkdir(join(work, 'in', path, '..'), { recursive: true })
      await writeFile(join(work, 'in', path), bytes)
    }
    const stateDir = join(work, 'state-basic')
    const run = valet(['upload', 'in/big.bin', 'in/one.bin', 'in/tree', '--endpoint', endpoint, '--json', '--state-dir', stateDir, '--concurrency', '4'], { cwd: work })
    const { code } = await run.exit
    expect(code, run.stderr()).toBe(0)
    const lines = jsonLines(run.stdout())
    expect(lines.map((l) => l.path).sort()).toEqual(['in/big.bin', 'in/one.bin', 'in/tree/a.bin', 'in/tree/sub/b.txt'])
    for (const line of lines) {
      expect(line.error).toBeUndefined()
      expect(line).toMatchObject({ key: expect.stringMatching(/^dev\//), etag: expect.any(String), location: expect.stringContaining(azuriteEndpoint), uploadId: expect.any(String) })
      const source = files[line.path.slice('in/'.length) as keyof typeof files]
      expect(line.size).toBe(source.byteLength)
      expect(sha256(await readBack(line.key))).toBe(sha256(source))
    }
    // A finished upload leaves no resume state behind.
    expect(await stateFile(stateDir)).toBeUndefined()
  })

  it('reports a failed file as a JSON error line and exits 1', async () => {
    await writeFile(join(work, 'empty.bin'), '')
    await writeFile(join(work, 'ok.bin'), 'ok')
    const run = valet(['upload', 'empty.bin', 'ok.bin', '--endpoint', endpoint, '--json', '--state-dir', join(work, 'state-fail')], { cwd: work })
    expect((await run.exit).code).toBe(1)
    const lines = jsonLines(run.stdout())
    expect(lines.find((l) => l.path === 'empty.bin')?.error).toMatchObject({ code: expect.any(String), message: expect.stringMatching(/empty/) })
    expect(lines.find((l) => l.path === 'ok.bin')).toMatchObject({ size: 2, key: expect.any(String) })
  })

  it('resumes after SIGKILL: the rerun keeps the upload id and sends only the missing parts', async () => {
    const bytes = generate(60 * MiB, 11)
    await writeFile(join(work, 'large.bin'), bytes)
    const stateDir = join(work, 'state-kill')
    const args = ['upload', 'large.bin', '--endpoint', endpoint, '--json', '--state-dir', stateDir, '--part-size', '5MiB', '--concurrency', '2']

    proxy.rate = 12 * MiB // about 5 s for the whole file: slow enough to stop it half-way
    proxy.partsStored = 0
    const first = valet(args, { cwd: work, env: proxy.env() })
    const state = await until('resume state is written', () => stateFile(stateDir), 20_000, first)
    expect(state.partCount).toBe(12)
    await until('two parts are stored', async () => ((await listedParts(state)) >= 2 ? true : undefined), 20_000, first)
    first.child.kill('SIGKILL')
    expect((await first.exit).signal).toBe('SIGKILL')
    expect(proxy.partsStored, 'the CLI must send its part PUTs through http_proxy').toBeGreaterThanOrEqual(2)
    // Settle: a part whose body was fully through when the kill came may still land.
    // Storage may commit a fully received body after the client socket died, later still on a
    // loaded machine: wait for the listing to hold still over three readings 500 ms apart.
    let storedBefore = await listedParts(state)
    for (let stable = 0; stable < 3; ) {
      await sleep(500)
      const now = await listedParts(state)
      stable = now === storedBefore ? stable + 1 : 0
      storedBefore = now
    }
    expect(storedBefore).toBeGreaterThanOrEqual(2)
    expect(storedBefore).toBeLessThan(12)
    expect((await stateFile(stateDir))?.uploadId).toBe(state.uploadId)

    proxy.rate = Number.POSITIVE_INFINITY
    proxy.partsStored = 0
    const second = valet(args, { cwd: work, env: proxy.env() })
    const { code } = await second.exit
    expect(code, second.stderr()).toBe(0)
    const [line] = jsonLines(second.stdout())
    expect(line).toMatchObject({ path: 'large.bin', size: bytes.byteLength, uploadId: state.uploadId })
    expect(line!.partsResumed).toBe(storedBefore)
    // Only the parts storage did not hold crossed the wire again.
    expect(proxy.partsStored).toBe(12 - storedBefore)
    expect(sha256(await readBack(line!.key))).toBe(sha256(bytes))
    expect(await stateFile(stateDir)).toBeUndefined()
  })

  it('pauses on SIGINT (exit 130, state kept) and a rerun finishes the same upload', async () => {
    const bytes = generate(20 * MiB, 12)
    await writeFile(join(work, 'paused.bin'), bytes)
    const stateDir = join(work, 'state-int')
    const args = ['upload', 'paused.bin', '--endpoint', endpoint, '--json', '--state-dir', stateDir, '--part-size', '5MiB', '--concurrency', '2']
    proxy.rate = 4 * MiB
    const first = valet(args, { cwd: work, env: proxy.env() })
    const state = await until('resume state is written', () => stateFile(stateDir), 20_000, first)
    first.child.kill('SIGINT')
    const exited = await first.exit
    expect(exited.code, first.stderr()).toBe(130)
    expect(jsonLines(first.stdout())).toEqual([{ path: 'paused.bin', name: 'paused.bin', error: { code: 'paused', message: expect.any(String) } }])
    expect((await stateFile(stateDir))?.uploadId).toBe(state.uploadId)

    proxy.rate = Number.POSITIVE_INFINITY
    const second = valet(args, { cwd: work, env: proxy.env() })
    expect((await second.exit).code, second.stderr()).toBe(0)
    const [line] = jsonLines(second.stdout())
    expect(line).toMatchObject({ uploadId: state.uploadId, size: bytes.byteLength })
    expect(sha256(await readBack(line!.key))).toBe(sha256(bytes))
  })

  it('prints plain progress lines when stdout is not a terminal', async () => {
    await writeFile(join(work, 'plain.bin'), generate(2 * MiB, 13))
    const run = valet(['upload', 'plain.bin', '--endpoint', endpoint, '--state-dir', join(work, 'state-plain')], { cwd: work })
    expect((await run.exit).code, run.stderr()).toBe(0)
    const out = run.stdout()
    expect(out).toMatch(/^start {2}plain\.bin \(2\.0 MiB\)$/m)
    expect(out).toMatch(/^done {3}plain\.bin \(2\.0 MiB in [\d.]+s, .*key dev\/.+\/plain\.bin\)$/m)
    expect(out).toMatch(/^1 of 1 file uploaded \(2\.0 MiB\)/m)
    expect(out).not.toMatch(/\x1b\[/)
  })

  it('downloads its own uploads with `valet download` (canRead: the dev prefix only), and its Azurite CORS lets pages GET ranges', async () => {
    const bytes = generate(7 * MiB, 14)
    await writeFile(join(work, 'roundtrip.bin'), bytes)
    const up = valet(['upload', 'roundtrip.bin', '--endpoint', endpoint, '--json', '--state-dir', join(work, 'state-rt'), '--part-size', '5MiB'], { cwd: work })
    expect((await up.exit).code, up.stderr()).toBe(0)
    const [uploaded] = jsonLines(up.stdout())
    const down = valet(['download', uploaded!.key, '--endpoint', endpoint, '--json', '--out', 'got', '--state-dir', join(work, 'state-dl')], { cwd: work })
    expect((await down.exit).code, down.stderr()).toBe(0)
    const [line] = jsonLines(down.stdout())
    expect(line).toEqual({ key: uploaded!.key, path: join(work, 'got', 'roundtrip.bin'), size: bytes.byteLength, etag: uploaded!.etag, type: expect.any(String), verified: 'parts', bytesResumed: 0 })
    expect(sha256(await readFile(join(work, 'got', 'roundtrip.bin')))).toBe(sha256(bytes))

    // Another principal's prefix: refused before storage is asked.
    const other = valet(['download', 'someone-else/0000/secret.bin', '--endpoint', endpoint, '--out', 'got', '--state-dir', join(work, 'state-dl')], { cwd: work })
    expect((await other.exit).code).toBe(1)
    expect(other.stdout()).toMatch(/^failed someone-else\/0000\/secret\.bin → got\/secret\.bin: forbidden: /m)

    // What a page's downloader sends: the preflight of a ranged GET, then the GET itself.
    const origin = 'http://localhost:5173'
    const open = await fetch(`${endpoint}/downloads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: uploaded!.key }) })
    expect(open.status).toBe(200)
    const { token } = (await open.json()) as { token: string }
    const signed = await fetch(`${endpoint}/downloads/ranges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, ranges: [{ start: 0, end: 10 }] }) })
    expect(signed.status).toBe(200)
    const [range] = ((await signed.json()) as { ranges: { url: string; headers: Record<string, string> }[] }).ranges
    const names = Object.keys(range!.headers).map((h) => h.toLowerCase()).sort()
    expect(names).toEqual(['if-match', 'x-ms-range', 'x-ms-version'])
    const preflight = await fetch(range!.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': names.join(',') } })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/localhost:5173)$/)
    const get = await fetch(range!.url, { headers: { ...range!.headers, origin } })
    expect(get.status).toBe(206)
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(bytes.subarray(0, 10))
    const exposed = (get.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(',').map((h) => h.trim())
    expect(exposed).toEqual(expect.arrayContaining(['etag', 'content-range']))
  })

  it('stops `valet dev` cleanly on SIGTERM, Azurite included', async () => {
    dev.child.kill('SIGTERM')
    const { code } = await dev.exit
    expect(code, dev.stderr()).toBe(0)
    expect(dev.stdout()).toMatch(/valet dev: stopping/)
    await expect(fetch(endpoint, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow()
    await expect(fetch(`${azuriteEndpoint}?comp=properties&restype=service`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow()
  })
})
