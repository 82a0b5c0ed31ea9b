/**
 * A client whose wall clock is 10 minutes fast, or 10 minutes slow, end to end in Node.
 *
 * The skew is real, not injected through the `Clock` port: the built `valet upload` runs in a
 * child process with `test/support/skewed-clock.mjs` preloaded (`NODE_OPTIONS=--import`), which
 * shifts `Date.now()`/`new Date()` for the whole process and leaves `performance.now()` and
 * timers alone, as on a machine whose clock is set wrong. The key server and storage run on the
 * true clock (this process, Swift, Azurite).
 *
 * 1. Short keys over a slow link: `keyTtl: 4` and a throttling proxy in front of storage, so the
 *    upload outlasts several key lifetimes and every part PUT takes longer than a key lives.
 *    The proxy records, per part PUT, when it arrived and when its key expires (both on the true
 *    clock): no PUT may arrive on an expired key, storage must accept every one (none retried),
 *    keys must be refreshed (several sign calls, no re-sign loop), and the object read back
 *    through the storage's own API must have the file's sha256.
 * 2. Resume state under a skewed clock: the CLI killed mid-upload and run again, both runs with
 *    the same wrong clock. The state's token expiry is judged by the local clock, so a fast
 *    clock can take a live token for an expired one (a new upload, the old one left open), and
 *    a slow clock a dead token for a live one (the server refuses it: a new upload). Either way
 *    the file must end up complete and verified.
 *
 * Runs `packages/cli/dist/bin.js`: `pnpm run build` first. `CLOCK_SKEW_CONTROL=1` adds the same
 * slow-link runs with the right clock, for comparison (the sign-call figures vary run to run
 * alike with or without skew).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest'
import { MiB } from '@valet/protocol'
import { generate, sha256 } from '../support/key-endpoint.js'
import { expectStored, providerAt, storageCases, swiftCase } from '../support/storages.js'
import { startThrottleProxy } from '../cli/throttle-proxy.js'
import { BIN, runValet, sleep, until, type Run } from '../cli/run-cli.js'
import { TOKEN, authorize, proxiedStack } from './harness.js'
import { completeCallsNameEveryPart } from '../support/key-calls.js'
import { startKeyServer } from '../support/key-server.js'

const PRELOAD = new URL('../support/skewed-clock.mjs', import.meta.url).href
const MINUTES_10 = 10 * 60_000
const SKEWS = [
  ['10 min fast', MINUTES_10],
  ['10 min slow', -MINUTES_10],
  ...(process.env.CLOCK_SKEW_CONTROL ? ([['right', 0]] as const) : []),
] as const

const PART = 5 * MiB

/** The environment of a child whose wall clock is `offsetMs` off. */
function skewedEnv(offsetMs: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    NODE_OPTIONS: `${base.NODE_OPTIONS ?? ''} --import=${PRELOAD}`.trim(),
    VALET_TEST_CLOCK_OFFSET_MS: String(offsetMs),
  }
}

interface State {
  uploadId: string
  key: string
  token: string
  partCount: number
  createdAt: string
  expiresAt: string
}

async function stateFile(dir: string): Promise<State | undefined> {
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.json')) : []
  if (names.length === 0) return undefined
  return JSON.parse(await readFile(join(dir, names[0]!), 'utf8')) as State
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function jsonLines(text: string): Record<string, any>[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}

function upload(dir: string, endpoint: string, stateDir: string, env: NodeJS.ProcessEnv): Run {
  const args = ['upload', 'file.bin', '--endpoint', endpoint, '--json', '--state-dir', stateDir, '--concurrency', '3', '--part-size', '5MiB']
  return runValet([...args, '--header', `authorization: Bearer ${TOKEN}`], { cwd: dir, env })
}

/** The run exited 0 with one complete, verified file: returns its JSON line. */
async function succeeded(expect: ExpectStatic, run: Run) {
  const { code } = await run.exit
  expect(code, `valet upload failed:\n${run.stdout()}\n${run.stderr()}`).toBe(0)
  const lines = jsonLines(run.stdout())
  expect(lines).toHaveLength(1)
  expect(lines[0]!.error).toBeUndefined()
  return lines[0]! as { key: string; size: number; uploadId: string; partsResumed: number }
}

/** How far the child's clock was from ours when it wrote its resume state (written right after create). */
function observedOffset(state: State, createArrivedAt: number): number {
  return Date.parse(state.createdAt) - createArrivedAt
}

let work: string
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = await mkdtemp(join(tmpdir(), 'valet-clock-skew-'))
})
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

/** One line per run, printed at the end: the figures docs/reliability.md quotes. */
const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.log(figures.sort().join('\n'))
})

// 30 MiB in 5 MiB parts, 3 in flight, through 3 MiB/s: ~10 s (2.5 key lifetimes of 4 s), and
// each part PUT takes ~5 s, longer than its key lives.
const SIZE = 30 * MiB
const PARTS = SIZE / PART
const RATE = 3 * MiB
const KEY_TTL = 4

// ---------------------------------------------------------------------------------------------
// Resume state with a wrong clock: kill the CLI mid-upload, run it again with the same clock.

// 6 parts, 3 in flight: when the first is stored, at least two have not started, so the kill
// always leaves work for the rerun.
const R_SIZE = 30 * MiB
const R_PARTS = R_SIZE / PART

interface ResumeCase {
  label: string
  offset: number
  /** Server token lifetime, s (default 24 h). */
  tokenTtl?: number
  /** Wait until the first run's token has really expired before the rerun. */
  waitForTokenExpiry?: boolean
  /**
   * What the rerun must do with the state; 'either' where both are right (today: recreated, see
   * the figures; a client that asked the server instead of its own clock would resume).
   */
  expect: 'resumed' | 'recreated' | 'either'
}

const RESUME_CASES: ResumeCase[] = [
  { label: 'fast clock, 24 h token: the state is resumed', offset: MINUTES_10, expect: 'resumed' },
  { label: 'slow clock, 24 h token: the state is resumed', offset: -MINUTES_10, expect: 'resumed' },
  // expiresAt is 5 min away on the true clock, already past on a clock 10 min fast.
  { label: 'fast clock, 5 min token: the live state looks expired', offset: MINUTES_10, tokenTtl: 300, expect: 'either' },
  // The token has expired; on a clock 10 min slow it still looks good for 10 min.
  { label: 'slow clock, expired token: it looks valid, the server refuses it', offset: -MINUTES_10, tokenTtl: 8, waitForTokenExpiry: true, expect: 'recreated' },
]

// Everything below runs at once: the uploads are throttled and the resume cases mostly wait.
describe.concurrent('client clock 10 min off, Node (the built CLI in a child process)', () => {
  const cases = storageCases.flatMap((make) => SKEWS.map(([label, offset]) => [make().name, label, offset, make] as const))
  it.for(cases)('%s, client clock %s, keyTtl 4 s, slow link: complete, verified, no PUT on an expired key', async ([name, label, offset, make], { expect }) => {
    const storage = make()
    const stack = await proxiedStack(name, { bandwidth: RATE }, { keyTtl: KEY_TTL })
    const dir = await mkdtemp(join(work, `${name}-${offset > 0 ? 'fast' : 'slow'}-`))
    try {
      const data = generate(SIZE, offset > 0 ? 301 : 302)
      await writeFile(join(dir, 'file.bin'), data)
      const stateDir = join(dir, 'state')
      const t0 = Date.now()
      const run = upload(dir, stack.keys.endpoint, stateDir, skewedEnv(offset))
      // Resume state is written right after create, before any part: its createdAt is the child's clock.
      const state = await until('resume state written', () => stateFile(stateDir), 30_000, run)
      const line = await succeeded(expect, run)
      const elapsed = Date.now() - t0

      const created = stack.keys.of('create')
      expect(created.map((c) => c.status)).toEqual([201])
      const skew = observedOffset(state, created[0]!.at)
      expect(Math.abs(skew - offset), `the child's clock was ${skew} ms off, not ${offset}`).toBeLessThan(5000)
      expect(line.size).toBe(SIZE)
      await expectStored(storage, line.key, { size: data.length, sha256: sha256(data) }, expect)
      expect(await readdir(stateDir)).toEqual([])

      // Several key lifetimes: keys had to be refreshed mid-upload.
      expect(elapsed).toBeGreaterThan(2 * KEY_TTL * 1000)
      const parts = stack.proxy.stats.parts
      for (const p of parts) {
        expect(p.keyExpiresAt, `part ${p.partNumber} carries an expiry`).toBeDefined()
        expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} arrived ${p.arrivedAt - p.keyExpiresAt!} ms after its key expired`).toBeLessThan(p.keyExpiresAt!)
        expect(p.storageStatus, `part ${p.partNumber} attempt ${p.attempt}`).toBeLessThan(300)
      }
      // One PUT per part: none refused, none retried.
      expect(parts.map((p) => p.partNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: PARTS }, (_, i) => i + 1))
      const leastLeft = Math.min(...parts.map((p) => p.keyExpiresAt! - p.arrivedAt))
      const longestPut = Math.max(...parts.map((p) => (p.endedAt ?? p.arrivedAt) - p.arrivedAt))
      expect(longestPut, 'a part PUT outlasts a key').toBeGreaterThan(KEY_TTL * 1000)

      // Keys were refreshed, not re-signed in a loop: the wrong clock neither made every key look
      // expired (a sign call per attempt, then `every key ... expired`) nor kept stale ones.
      const signs = stack.keys.of('sign')
      const keysSigned = signs.reduce((n, c) => n + c.request.parts.length, 0)
      expect(signs.every((c) => c.status === 200)).toBe(true)
      expect(signs.length).toBeGreaterThan(1)
      expect(keysSigned).toBeGreaterThanOrEqual(PARTS)
      expect(keysSigned).toBeLessThanOrEqual(3 * PARTS)
      expect(signs.length).toBeLessThanOrEqual(1.5 * PARTS)
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
      figures.push(
        `[clock skew node ${name}, ${label}] observed offset ${(skew / 1000).toFixed(1)} s, ${(elapsed / 1000).toFixed(1)} s, ` +
          `${parts.length} part PUTs for ${PARTS} parts, longest PUT ${(longestPut / 1000).toFixed(1)} s, ${signs.length} sign calls for ${keysSigned} keys, ` +
          `least key time left on arrival ${leastLeft} ms; sign batches ${signs.map((c) => c.request.parts.map((p: { partNumber: number }) => p.partNumber).join('+')).join(' ')}`,
      )
    } finally {
      await stack.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.for(RESUME_CASES)('resume state (Swift, killed mid-upload, run again): $label', async (c, { expect }) => {
    const storage = swiftCase()
    const provider = providerAt('swift')
    const keys = await startKeyServer(provider, { authorize, ...(c.tokenTtl === undefined ? {} : { tokenTtl: c.tokenTtl, keyTtl: Math.min(c.tokenTtl, 900) }) })
    const proxy = await startThrottleProxy(6 * MiB)
    const dir = await mkdtemp(join(work, 'resume-'))
    let first: State | undefined
    let abandoned = false
    let orphan = false
    try {
      const data = generate(R_SIZE, 400 + RESUME_CASES.indexOf(c))
      await writeFile(join(dir, 'file.bin'), data)
      const stateDir = join(dir, 'state')
      const env = skewedEnv(c.offset, proxy.env())

      // Run 1, killed once storage holds a part.
      const run1 = upload(dir, keys.endpoint, stateDir, env)
      await until('a part stored', () => (proxy.partsStored >= 1 ? true : undefined), 30_000, run1)
      run1.child.kill('SIGKILL')
      await run1.exit
      first = await stateFile(stateDir)
      expect(first, 'run 1 left resume state').toBeDefined()
      const created = keys.of('create')[0]!
      expect(Math.abs(observedOffset(first!, created.at) - c.offset)).toBeLessThan(5000)
      if (c.waitForTokenExpiry) {
        const exp = Date.parse(first!.expiresAt)
        await sleep(Math.max(0, exp - Date.now() + 1000))
      }

      // Run 2, same clock, full speed.
      proxy.rate = Number.POSITIVE_INFINITY
      const before = keys.calls.length
      const run2 = upload(dir, keys.endpoint, stateDir, env)
      const line = await succeeded(expect, run2)
      await expectStored(storage, line.key, { size: data.length, sha256: sha256(data) }, expect)
      expect(await readdir(stateDir)).toEqual([])
      const calls = keys.calls.slice(before)
      const listed = calls.filter((call) => call.op === 'list').map((call) => call.status)

      const resumed = line.uploadId === first!.uploadId
      if (c.expect === 'resumed' || (c.expect === 'either' && resumed)) {
        expect(line.uploadId).toBe(first!.uploadId)
        expect(line.partsResumed).toBeGreaterThanOrEqual(1)
        expect(line.partsResumed).toBeLessThan(R_PARTS)
        expect(listed).toEqual([200])
        expect(calls.filter((call) => call.op === 'create')).toEqual([])
      } else {
        expect(line.uploadId).not.toBe(first!.uploadId)
        abandoned = true
        expect(line.partsResumed).toBe(0)
        expect(calls.filter((call) => call.op === 'create').map((call) => call.status)).toEqual([201])
        if (c.waitForTokenExpiry) {
          // The slow clock took the dead token for a live one: one list, refused, then a new upload.
          expect(listed).toHaveLength(1)
          expect(listed[0]).toBeGreaterThanOrEqual(400)
          expect(listed[0]).toBeLessThan(500)
        } else {
          // The fast clock judged the state expired, though its token was alive: the client
          // aborts that upload with it (DELETE) rather than leave it open.
          expect(calls.filter((call) => call.op === 'abort').map((call) => call.status)).toEqual([204])
          expect(await storage.openUploads(first!.key)).toBe(0)
        }
        // Whether the first run's storage upload was left open: the slow clock's dead token can't abort it.
        orphan = (await storage.openUploads(first!.key)) > 0
      }
      figures.push(
        `[clock skew node resume, ${c.label}] run 2 ${resumed ? 'resumed' : 'created a new upload'}, ` +
          `list calls ${JSON.stringify(listed)}, parts resumed ${line.partsResumed}/${R_PARTS}${orphan ? ', first upload left open in storage' : ''}`,
      )
    } finally {
      // Tidy the first run's upload if the rerun abandoned it (with storage's own credentials).
      if (first !== undefined && abandoned) await provider.abort({ uploadId: first.uploadId, key: first.key, owner: first.key.split('/')[0]! }).catch(() => {})
      await keys.close()
      await proxy.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
