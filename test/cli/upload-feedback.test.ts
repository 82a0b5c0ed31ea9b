/**
 * What `valet upload` tells a person, end to end with the built CLI against `valet dev`: a key
 * endpoint that is down or wrong fails within 5 s naming the URL, the cause and `valet doctor`,
 * with no state left behind; a clamped `--part-size` is reported with the size used; an empty
 * directory is an error; relative paths resolve from where `pnpm valet …` was run; a leading
 * `--` (pnpm passes it through) is ignored; an interrupted run and its rerun report the bytes
 * storage holds and what was sent in each run.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../support/key-endpoint.js'
import { freePort } from '../support/free-port.js'
import { BIN, killValetDev, runValet, sleep, startValetDev, until, type Run } from './run-cli.js'
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js'

const MiB = 1024 * 1024

let work: string
let dev: Run
let endpoint: string
let proxy: ThrottleProxy

const stateFiles = async (dir: string): Promise<string[]> => (existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.json')) : [])

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = await mkdtemp(join(tmpdir(), 'valet-feedback-'))
  proxy = await startThrottleProxy()
  // The leading `--` is what `pnpm start -- --port 0` hands the CLI.
  ;({ dev, endpoint } = await startValetDev(['dev', '--', '--port', '0', '--dir', join(work, '.valet')], work))
  await writeFile(join(work, 'small.bin'), generate(64 * 1024, 1))
})

afterAll(async () => {
  killValetDev(dev)
  await proxy?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('valet upload says what happened and what to fix', () => {
  it.each([
    ['down (connection refused)', async () => `http://127.0.0.1:${await freePort()}/api/valet`, /connection refused/],
    ['a wrong path (the page answers 405)', async () => endpoint.replace(/\/api\/valet$/, '/api/wrong'), /answered 405 to POST \/uploads.*mounted/],
    ['a host name that does not resolve', async () => 'http://valet-nowhere.invalid:3000/api/valet', /does not resolve/],
  ])('fails within 5 s when the key endpoint is %s, naming the URL and valet doctor, leaving no state', async (_what, url, cause) => {
    const target = await url()
    const stateDir = join(work, `state-${Math.random().toString(36).slice(2)}`)
    const t0 = Date.now()
    const run = runValet(['upload', 'small.bin', '--endpoint', target, '--state-dir', stateDir], { cwd: work })
    const { code } = await run.exit
    const elapsed = Date.now() - t0
    expect(code).toBe(1)
    expect(elapsed, run.stdout()).toBeLessThan(5_000)
    const out = run.stdout()
    expect(out).toContain(target)
    expect(out).toMatch(cause)
    expect(out).toContain(`valet doctor --endpoint ${target}`)
    expect(await stateFiles(stateDir), 'a create that reached no key server leaves no state').toEqual([])
  })

  it('reports a clamped --part-size with the size used', async () => {
    await writeFile(join(work, 'six.bin'), generate(6 * MiB, 2))
    const run = runValet(['upload', 'six.bin', '--endpoint', endpoint, '--part-size', '1KiB', '--state-dir', join(work, 'state-clamp')], { cwd: work })
    expect((await run.exit).code, run.stderr()).toBe(0)
    expect(run.stdout()).toMatch(/--part-size 1\.0 KiB adjusted: storage needs larger parts; using 5\.0 MiB parts/)
  })

  it('calls an empty directory an error (exit 1)', async () => {
    await mkdir(join(work, 'empty-dir'), { recursive: true })
    const run = runValet(['upload', 'empty-dir', '--endpoint', endpoint], { cwd: work })
    expect((await run.exit).code).toBe(1)
    expect(run.stderr()).toMatch(/nothing to upload: no regular files in empty-dir/)
  })

  it('resolves relative paths from where `pnpm valet` was run (INIT_CWD), and ignores a leading --', async () => {
    await mkdir(join(work, 'sub'), { recursive: true })
    // A package script runs in the package's folder; npm and pnpm name the user's in INIT_CWD.
    const env = { ...process.env, INIT_CWD: join(work, 'sub'), npm_lifecycle_event: 'valet', npm_package_json: join(tmpdir(), 'package.json') }
    const run = runValet(['upload', '--', '../small.bin', '--endpoint', endpoint, '--json', '--state-dir', 'state'], { cwd: tmpdir(), env })
    expect((await run.exit).code, run.stderr()).toBe(0)
    expect(JSON.parse(run.stdout())).toMatchObject({ path: '../small.bin', size: 64 * 1024 })
    expect(existsSync(join(work, 'sub', 'state')), '--state-dir resolves from INIT_CWD too').toBe(true)
  })

  it('an interrupted run reports what storage holds, its rerun what it sent (not the resumed parts)', async () => {
    await writeFile(join(work, 'twenty.bin'), generate(20 * MiB, 3))
    const args = ['upload', 'twenty.bin', '--endpoint', endpoint, '--state-dir', join(work, 'state-int'), '--part-size', '5MiB', '--concurrency', '1']
    proxy.rate = 5 * MiB
    proxy.partsStored = 0
    const first = runValet(args, { cwd: work, env: proxy.env() })
    await until('a part is stored', () => (proxy.partsStored >= 1 ? true : undefined), 20_000, first)
    await sleep(300) // the client's progress reaches the renderer at most every 100 ms
    first.child.kill('SIGINT')
    expect((await first.exit).code, first.stderr()).toBe(130)
    const stored = /0 of 1 file uploaded \(([\d.]+) MiB of 20\.0 MiB stored\)/.exec(first.stdout())
    expect(stored, first.stdout()).not.toBeNull()
    const storedMiB = Number(stored![1])
    expect(storedMiB).toBeGreaterThanOrEqual(5)
    expect(first.stdout()).toMatch(/1 paused or not started/)

    proxy.rate = Number.POSITIVE_INFINITY
    const second = runValet(args, { cwd: work, env: proxy.env() })
    expect((await second.exit).code, second.stderr()).toBe(0)
    const out = second.stdout()
    // A part whose bytes were all sent when the pause came can still land after the first run's
    // summary: the rerun finds at least what that summary said, and sends only the rest.
    const already = /done {3}twenty\.bin \(20\.0 MiB in [^)]*?([\d.]+) MiB already stored, key/.exec(out)
    expect(already, out).not.toBeNull()
    const alreadyMiB = Number(already![1])
    expect(alreadyMiB).toBeGreaterThanOrEqual(storedMiB)
    expect(alreadyMiB).toBeLessThan(20)
    expect(out).toMatch(new RegExp(`1 of 1 file uploaded \\(20\\.0 MiB\\) in [^,]+, ${(20 - alreadyMiB).toFixed(1)} MiB sent in this run`))
  })
})
