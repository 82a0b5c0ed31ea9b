/**
 * Crash safety of the built `valet upload` on Swift s3api: the same 40 MiB file, SIGKILLed 20
 * times at chosen-at-random points (while its create is in flight, while parts are going out,
 * while its complete is in flight, after it reported success), each time rerun with the same
 * state dir; then one run without a kill. Every run that finds resume state must continue that
 * upload, never re-send a part storage holds, and every completed object must be the file.
 * Storage must hold no multipart upload for this test's prefix that a client could still
 * continue or that nobody knows about.
 *
 * The key endpoint is the kit's (test/support/key-server.ts: the real createValet) and logs every call; it
 * holds a create or complete response (before or after its storage call) while the test kills
 * the CLI, so those phases are really hit rather than hoped for. Part PUTs go through a
 * throttling forward proxy (`http_proxy`) so a run lasts long enough to be cut mid-way.
 *
 * A kill inside create: the client saved a pending create (its `requestId`) before sending it,
 * so the rerun sends the same create again and the server (ListMultipartUploads at the key the
 * requestId derives) hands back the upload the lost answer named: a kill after storage created
 * the upload but before the client heard of it leaves no orphan (it used to leave one each).
 *
 * Abort after a crash: the upload a killed CLI left is aborted with DELETE and its saved token,
 * or picked up by the client API (same state dir) and abort()ed; no upload may stay open.
 *
 * Reproduce a run's random choices with CRASH_SEED=<seed printed in the table header>.
 * Runs `packages/cli/dist/bin.js`: build first (`pnpm run build`).
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { AwsClient } from 'aws4fetch'
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest'
import { createUploader, isValetError } from '@valet/client'
import type { StorageProvider } from '@valet/server'
import { byUserHeader, generate, sha256 } from '../support/key-endpoint.js'
import { swiftCase } from '../support/storages.js'
import { startKeyServer, type HoldAt, type KeyCall as Call, type KeyServer } from '../support/key-server.js'
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js'
import { BIN, runValet, sleep, until as untilOf, type Run } from './run-cli.js'

const MiB = 1024 * 1024
const SIZE = 40 * MiB
const PART = 5 * MiB
const PARTS = SIZE / PART
/** Part bodies through the proxy when a run is to be cut during its parts: ~2 s for the file. */
const RATE = 20 * MiB

// Seeded, so a failing sequence of kill points can be replayed.
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const random = (() => {
  let a = SEED | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
})()
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))

// ---------------------------------------------------------------------------------------------
// The CLI as a subprocess

/**
 * Each run here is the same file uploaded anew once the last one completed, so the run journal
 * (what an interrupted run finished: it would report the file done and send nothing) goes
 * before every run; test/cli/batch-crash.test.ts shows the journal itself.
 */
function valet(args: string[], cwd: string, env: NodeJS.ProcessEnv): Run {
  const at = args.indexOf('--state-dir')
  if (at >= 0) {
    const dir = resolve(cwd, args[at + 1]!)
    if (existsSync(dir)) for (const name of readdirSync(dir)) if (/^run-[0-9a-f]+\.jsonl$/.test(name)) rmSync(join(dir, name))
  }
  return runValet(args, { cwd, env })
}

// Kills land within milliseconds of what they wait for: poll often.
const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, run?: Run) => untilOf(what, probe, timeoutMs, run, 10)

/** Resolves with `promise`, or rejects if the CLI exits first. */
async function beforeExit<T>(what: string, promise: Promise<T>, run: Run, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      run.exit.then(() => Promise.reject(new Error(`${what}: the CLI exited first.\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs))),
    ])
  } finally {
    clearTimeout(timer)
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function jsonLines(text: string): Record<string, any>[] {
  // Complete lines only: a kill or a poll can come mid-line.
  return text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}

interface State {
  /** A pending create: saved before create is sent; only `requestId` means anything then. */
  pending?: true
  requestId?: string
  uploadId: string
  key: string
  token: string
  partCount: number
  /** Saved just before complete is sent: every part is stored, so a resumed run sends complete again without a list. */
  completing?: { partNumber: number; etag: string }[]
}

async function stateFile(dir: string): Promise<State | undefined> {
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.json')) : []
  if (names.length > 1) throw new Error(`more than one resume state in ${dir}: ${names.join(', ')}`)
  if (names.length === 0) return undefined
  return JSON.parse(await readFile(join(dir, names[0]!), 'utf8')) as State
}

// ---------------------------------------------------------------------------------------------
// Storage, read with its own credentials

const swift = swiftCase()
let provider: StorageProvider

/** Part numbers storage holds, once the count has stopped moving (a part fully sent at the kill may still land). */
async function settledParts(state: State): Promise<Set<number>> {
  // A killed run's last part PUT may still be with storage: its answer comes once the part is listed.
  await Promise.race([proxy.idle(), sleep(40_000).then(() => Promise.reject(new Error('a part PUT through the proxy never ended')))])
  const read = async () => new Set((await provider.listParts({ uploadId: state.uploadId, key: state.key, owner: state.key.split('/')[0]! })).map((p) => p.partNumber))
  let parts = await read()
  for (let stable = 0; stable < 2; ) {
    await sleep(120)
    const again = await read()
    stable = again.size === parts.size ? stable + 1 : 0
    parts = again
  }
  return parts
}

/** Open multipart uploads under `prefix`, with their ids (ListMultipartUploads). */
async function openUploadIds(prefix: string): Promise<string[]> {
  const info = inject('swift')
  const aws = new AwsClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey, region: info.region, service: 's3' })
  const res = await aws.fetch(`${info.endpoint}/${info.bucket}?uploads&prefix=${encodeURIComponent(prefix)}`)
  const text = await res.text()
  if (!res.ok) throw new Error(`ListMultipartUploads: ${res.status} ${text}`)
  return [...text.matchAll(/<Upload>[\s\S]*?<UploadId>([^<]+)<\/UploadId>[\s\S]*?<\/Upload>/g)].map((m) => m[1]!).sort()
}

// ---------------------------------------------------------------------------------------------
// Where each of the 20 kills is aimed. The order matters: a kill leaves resume state (or not)
// that decides what the next run can reach. The exact moment within the phase is random.

type Target = { phase: 'create' | 'complete'; hold: HoldAt } | { phase: 'parts' | 'success' }
const create = (hold: HoldAt): Target => ({ phase: 'create', hold })
const complete = (hold: HoldAt): Target => ({ phase: 'complete', hold })
const parts: Target = { phase: 'parts' }
const success: Target = { phase: 'success' }
const PLAN: Target[] = [
  create('after'), parts, parts, complete('after'), success,
  create('before'), parts, parts, parts, complete('before'), complete('after'), success,
  create('after'), parts, parts, parts, complete('after'), complete('after'), success,
  parts,
]

type Phase = 'startup' | 'create' | 'resume' | 'parts' | 'complete' | 'complete answered' | 'after success'

/** The phase a run was in, from the server's log of its calls and what it printed. */
function phaseOf(calls: Call[], stdout: string): Phase {
  if (jsonLines(stdout).some((l) => typeof l.key === 'string')) return 'after success'
  const last = (op: Call['op']) => calls.filter((c) => c.op === op).at(-1)
  const done = last('complete')
  if (done) return done.delivered ? 'complete answered' : 'complete'
  const made = last('create')
  if (made && !made.delivered) return 'create'
  const listed = last('list')
  if (!made && !listed) return 'startup'
  if (listed && !listed.delivered) return 'resume'
  return 'parts'
}

interface Row {
  kill: number
  aim: string
  phase: Phase
  ms: number
  uploadId: string
  /** Parts storage held for the state's upload after the kill; undefined: no resume state. */
  stored: number | undefined
  /** The kill left a pending create (it came inside create). */
  pending: boolean
  /**
   * How the next run started: 'resumed' the state's upload, created a 'new' one, or sent a
   * pending create again and got the 'same upload' the killed run's create had started.
   */
  next?: 'resumed' | 'new' | 'same upload'
  /** Part PUTs storage accepted during the next run. */
  resent?: number
  note: string
}

function printTable(rows: Row[], extra: string[]): void {
  const head = ['kill', 'aimed at', 'phase at kill (server log)', 'ms to kill', 'upload', 'parts stored', 'next run', 'parts re-sent next run', 'note']
  const body = rows.map((r) => [
    String(r.kill),
    r.aim,
    r.phase,
    String(r.ms),
    r.uploadId,
    r.stored === undefined ? (r.pending ? '- (pending create)' : '- (no state)') : `${r.stored}/${PARTS}`,
    r.next ?? '',
    r.resent === undefined ? '' : String(r.resent),
    r.note,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(
    [`crash safety, seed ${SEED} (replay with CRASH_SEED=${SEED})`, line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), ...extra].join('\n'),
  )
}

// ---------------------------------------------------------------------------------------------

const PRINCIPAL = `crash-${randomUUID()}`
const PREFIX = `${PRINCIPAL}/`
let work: string
let proxy: ThrottleProxy
let keys: KeyServer
let file: string
let fileSha: string
/** Orphans the crash loop found (uploadIds; there should be none), for cleanup. */
let orphans: { uploadId: string; key: string }[] = []
/** Uploads the abort tests started: aborted again at the end, whatever the tests found. */
const abortCases: { uploadId: string; key: string }[] = []

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  provider = swift.provider()
  work = await mkdtemp(join(tmpdir(), 'valet-crash-'))
  file = join(work, 'same.bin')
  const bytes = generate(SIZE, 2024)
  fileSha = sha256(bytes)
  await writeFile(file, bytes)
  proxy = await startThrottleProxy()
  // A killed client's storage calls fail by design: `keys.errors` keeps them, unlogged.
  keys = await startKeyServer(provider, { authorize: byUserHeader(PRINCIPAL), onError: () => {} })
})

afterAll(async () => {
  // Leave Swift as we found it, whatever a failed run left behind.
  for (const o of [...orphans, ...abortCases]) await provider.abort({ uploadId: o.uploadId, key: o.key, owner: o.key.split('/')[0]! }).catch(() => {})
  await keys?.close()
  await proxy?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('valet upload (built CLI) survives SIGKILL anywhere, on Swift s3api', () => {
  it('20 kills on the same file (during create, parts, complete, after success), then a clean run: right object, same upload resumed, no orphans', async () => {
    const t0 = Date.now()
    const stateDir = join(work, 'state')
    const args = ['upload', file, '--endpoint', keys.endpoint, '--state-dir', stateDir, '--json', '--part-size', '5MiB', '--concurrency', '2']
    const rows: Row[] = []
    onTestFailed(() => printTable(rows, ['(the test failed: rows up to the failure)']))

    /**
     * Checks one run's calls against the resume state it started from; returns how it started.
     * `lost`: the killed run's create that storage carried out but whose answer the kill cut off.
     */
    const checkRun = (calls: Call[], before: State | undefined, storedBefore: Set<number>, label: string, lost: Call | undefined): NonNullable<Row['next']> => {
      if (before?.pending) {
        // Killed inside create: the pending create goes out again, as the same create.
        expect(calls[0], `${label}: a pending create is sent again first`).toMatchObject({ op: 'create', requestId: before.requestId, status: 201 })
        expect(calls.filter((c) => c.op === 'create'), `${label}: one create`).toHaveLength(1)
        if (lost === undefined) return 'new'
        expect(calls[0]!.uploadId, `${label}: the create sent again got the upload the lost answer named`).toBe(lost.uploadId)
        expect(calls[0]!.key).toBe(lost.key)
        return 'same upload'
      }
      if (before !== undefined) {
        // State existed: the run continues that upload — no create, same id throughout; a list
        // first, or the same complete again when the kill came while completing.
        expect(calls.filter((c) => c.op === 'create'), `${label}: created a new upload although state existed`).toEqual([])
        const first = before.completing ? 'complete' : 'list'
        expect(calls[0], `${label}: first call`).toMatchObject({ op: first, uploadId: before.uploadId, status: 200 })
        if (before.completing) expect(calls.filter((c) => c.op !== 'complete'), `${label}: only complete after a kill while completing`).toEqual([])
        expect(calls.filter((c) => c.uploadId !== before.uploadId).map((c) => `${c.op} ${c.uploadId}`), `${label}: calls for another upload`).toEqual([])
        const resent = calls.flatMap((c) => c.parts ?? []).filter((n) => storedBefore.has(n))
        expect(resent, `${label}: asked keys for parts storage already held`).toEqual([])
        return 'resumed'
      }
      expect(calls[0]?.op, `${label}: no state, so the first call creates`).toBe('create')
      return 'new'
    }

    // What the last kill left: resume state, and the parts storage held for it once settled; and
    // its create whose answer the kill cut off after storage had carried it out.
    let before: State | undefined
    let storedBefore = new Set<number>()
    let lostBefore: Call | undefined
    for (let i = 0; i < PLAN.length; i++) {
      const target = PLAN[i]!
      const label = `kill ${i + 1} (${target.phase}${'hold' in target ? `/${target.hold}` : ''})`
      proxy.rate = target.phase === 'parts' ? RATE : Number.POSITIVE_INFINITY
      proxy.partsStored = 0
      const putsFrom = proxy.requests.length
      const callsFrom = keys.calls.length
      const hold = 'hold' in target ? keys.hold(target.phase, target.hold) : undefined
      const started = Date.now()
      const run = valet(args, work, proxy.env())

      let note = ''
      if (hold) {
        await beforeExit(`${label}: the ${target.phase} reaches the server`, hold.reached, run)
        note = 'hold' in target && target.hold === 'after' ? `${target.phase} done in storage, answer held` : `held before storage`
        await sleep(between(0, 300))
      } else if (target.phase === 'parts') {
        // j more parts stored this run, leaving at least 2 to go (so the kill still finds parts in flight).
        const j = between(0, Math.max(0, Math.min(3, PARTS - storedBefore.size - 2)))
        await until(`${label}: ${j} part(s) stored this run`, () => (proxy.partsStored >= j && proxy.requests.slice(putsFrom).some((r) => r.startsWith('PUT ')) ? true : undefined), 20_000, run)
        await sleep(between(0, 250))
        note = `after ${j} PUT(s) this run`
      }
      const calls = () => keys.calls.slice(callsFrom)
      let phase: Phase
      if (target.phase === 'success') {
        // Kill the moment the success line arrives, from the stream handler: the CLI exits right after.
        phase = await beforeExit(
          `${label}: the CLI reports success`,
          new Promise<Phase>((resolve) => {
            const onData = () => {
              if (!jsonLines(run.stdout()).some((l) => l.key)) return
              run.child.stdout!.off('data', onData)
              resolve(phaseOf(calls(), run.stdout()))
              run.child.kill('SIGKILL')
            }
            run.child.stdout!.on('data', onData)
          }),
          run,
        ).catch(async (error: unknown) => {
          // The line and the exit can come together: that is still a success with nothing left to kill.
          if (jsonLines(run.stdout()).some((l) => l.key)) return phaseOf(calls(), run.stdout())
          throw error
        })
      } else {
        phase = phaseOf(calls(), run.stdout())
        run.child.kill('SIGKILL')
      }
      const exit = await run.exit
      if (exit.signal !== 'SIGKILL') note += `${note ? '; ' : ''}exited ${exit.code} before the kill`
      if (hold) {
        // Release only once the server has seen the dead client's socket close, so a held answer
        // is never written into a socket the kernel has not yet reported closed.
        const held = await hold.reached
        await Promise.race([held.closed, sleep(5_000)])
        hold.release()
      }
      await Promise.race([keys.idle(), sleep(15_000).then(() => Promise.reject(new Error(`${label}: the key endpoint never finished its calls`)))])

      const how = checkRun(calls(), before, storedBefore, label, lostBefore)
      if (rows.length > 0) Object.assign(rows.at(-1)!, { next: how, resent: proxy.partsStored })
      if (phase === 'after success') {
        const [line] = jsonLines(run.stdout())
        expect(line, label).toMatchObject({ size: SIZE })
        if (before && !before.pending) expect(line!.uploadId, `${label}: completed another upload than its state's`).toBe(before.uploadId)
      }
      if (target.phase === 'complete' && target.hold === 'after') {
        expect(calls().filter((c) => c.op === 'complete').at(-1)?.status, `${label}: the held complete committed`).toBe(200)
      }
      const after = await stateFile(stateDir)
      const made = calls().find((c) => c.op === 'create')
      const named = (s: State | undefined) => (s && !s.pending ? s.uploadId : undefined)
      const uploadId = (named(after) ?? made?.uploadId ?? named(before) ?? '-').slice(0, 8)
      if (after?.pending) {
        expect(phase, `${label}: a pending create is left only by a kill inside create`).toBe('create')
        expect(after.requestId, `${label}: the pending create holds the requestId the create carried`).toBe(made?.requestId)
      }
      before = after
      lostBefore = made?.status === 201 && made.cutOff ? made : undefined
      storedBefore = after && !after.pending ? await settledParts(after) : new Set<number>()
      const stored = after && !after.pending ? storedBefore.size : undefined
      rows.push({ kill: i + 1, aim: `${target.phase}${'hold' in target ? ` (hold ${target.hold})` : ''}`, phase, ms: Date.now() - started, uploadId, stored, pending: after?.pending === true, note })
    }

    // The run nobody kills.
    expect((await stateFile(stateDir))?.uploadId).toBe(before?.uploadId)
    proxy.rate = Number.POSITIVE_INFINITY
    proxy.partsStored = 0
    const callsFrom = keys.calls.length
    const last = valet(args, work, proxy.env())
    const exit = await last.exit
    expect(exit.code, last.stderr()).toBe(0)
    await keys.idle()
    const how = checkRun(keys.calls.slice(callsFrom), before, storedBefore, 'final run', lostBefore)
    Object.assign(rows.at(-1)!, { next: how, resent: proxy.partsStored })
    const [line] = jsonLines(last.stdout())
    expect(line).toMatchObject({ size: SIZE, key: expect.stringMatching(new RegExp(`^${PRINCIPAL}/`)) })
    if (before && !before.pending) {
      expect(line!.uploadId).toBe(before.uploadId)
      expect(line!.partsResumed).toBe(storedBefore.size)
      expect(proxy.partsStored, 'the final run sends exactly the parts storage lacked').toBe(PARTS - storedBefore.size)
    }
    expect(await stateFile(stateDir), 'a finished upload leaves no resume state').toBeUndefined()

    // Every object any run completed is the file, byte for byte.
    const completedKeys = [...new Set(keys.calls.filter((c) => c.op === 'complete' && c.status === 200).map((c) => c.key!))]
    expect(completedKeys).toContain(line!.key)
    const objects = await Promise.all(completedKeys.map(async (key) => [key, sha256((await swift.read(key))?.bytes ?? new Uint8Array())] as const))
    expect(objects).toEqual(completedKeys.map((key) => [key, fileSha]))

    // Orphans, precisely: uploads storage created whose id no client call ever used again.
    const created = keys.calls.filter((c) => c.op === 'create' && c.status === 201)
    const used = new Set(keys.calls.filter((c) => c.op !== 'create').map((c) => c.uploadId))
    const unknown = created.filter((c) => !used.has(c.uploadId))
    orphans = unknown.map((c) => ({ uploadId: c.uploadId!, key: c.key! }))
    expect(unknown.map((c) => `${c.uploadId} (held ${c.held}, cut off ${c.cutOff})`), 'uploads storage created that no client call named again').toEqual([])
    // The kills that used to leak one each: a create storage carried out, its answer cut off.
    // Each such upload was handed out again by the next run's create (checked per run above).
    const lost = created.filter((c) => c.held === 'after' && c.cutOff)
    expect(lost.length, 'creates carried out by storage whose answer a kill cut off').toBe(PLAN.filter((t) => t.phase === 'create' && t.hold === 'after').length)
    const recovered = lost.filter((c) => created.some((d) => d.seq > c.seq && d.uploadId === c.uploadId && d.requestId === c.requestId))
    expect(recovered.length, 'each handed out again to the same requestId').toBe(lost.length)
    // A create cut off before storage was called created nothing.
    for (const c of keys.calls.filter((c) => c.op === 'create' && c.held === 'before')) expect(c.status, 'create held before storage').not.toBe(201)
    const open = await openUploadIds(PREFIX)
    expect(open, 'open multipart uploads under the prefix').toEqual([])

    // The kills really landed in every phase.
    const count = (p: Phase) => rows.filter((r) => r.phase === p).length
    printTable(rows, [
      `phases: create ${count('create')}, parts ${count('parts')}, complete ${count('complete')}, after success ${count('after success')}, other ${rows.length - count('create') - count('parts') - count('complete') - count('after success')}`,
      `objects completed: ${completedKeys.length}, all sha256 = file; creates whose answer a kill cut off after storage created the upload: ${lost.length}, handed out again: ${recovered.length} (${lost.map((c) => c.uploadId!.slice(0, 8)).join(', ') || 'none'}); open uploads under ${PREFIX}: ${open.length}`,
      `crash loop + final run: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    ])
    expect(count('create')).toBe(PLAN.filter((t) => t.phase === 'create').length)
    expect(count('complete')).toBe(PLAN.filter((t) => t.phase === 'complete').length)
    expect(count('after success')).toBeGreaterThanOrEqual(PLAN.filter((t) => t.phase === 'success').length)
    expect(count('parts')).toBeGreaterThanOrEqual(6)
  }, 180_000)

  // Once a known gap: storage creates the upload before the client can save its id, and a kill in
  // between used to lose the id for good. The pending create (requestId saved first) and the
  // idempotent create (same requestId → same key → the upload ListMultipartUploads finds) close it.
  it('no orphaned multipart upload is left under the prefix after success, kills inside create included', async () => {
    expect(await swift.openUploads(PREFIX)).toBe(0)
  })

  /** Starts the CLI as `user`, kills it once 2 parts are stored, returns the state it left. */
  const crash = async (path: string, user: string, stateDir: string): Promise<State> => {
    proxy.rate = RATE
    proxy.partsStored = 0
    const run = valet(['upload', path, '--endpoint', keys.endpoint, '--state-dir', stateDir, '--json', '--part-size', '5MiB', '--concurrency', '2', '--header', `x-user: ${user}`], work, proxy.env())
    await until('2 parts stored', () => (proxy.partsStored >= 2 ? true : undefined), 20_000, run)
    run.child.kill('SIGKILL')
    await run.exit
    await keys.idle()
    const state = (await stateFile(stateDir))!
    expect(state).toBeDefined()
    abortCases.push({ uploadId: state.uploadId, key: state.key })
    const stored = await settledParts(state)
    expect(stored.size).toBeGreaterThanOrEqual(2)
    expect(stored.size).toBeLessThan(4)
    expect(await swift.openUploads(`${user}/`)).toBe(1)
    return state
  }
  /** Open uploads under `prefix`, allowing a part fully sent when the abort came to land and be aborted again (the client repeats its DELETE at 1.5 s). */
  const openSoon = async (prefix: string): Promise<number> => {
    let open = await swift.openUploads(prefix)
    for (let waited = 0; open > 0 && waited < 3_000; waited += 250) {
      await sleep(250)
      open = await swift.openUploads(prefix)
    }
    return open
  }
  /** The client API picks up a killed CLI's upload from the same state dir and is aborted while its `when` call is held at the server. */
  const abortWhileHeld = async (path: string, when: 'sign' | 'list') => {
    const user = `crash-abort-${when}-${randomUUID()}`
    const dir = join(work, `state-abort-${when}`)
    const state = await crash(path, user, dir)
    const callsFrom = keys.calls.length
    const hold = keys.hold(when, 'before')
    const upload = createUploader({ endpoint: keys.endpoint, headers: { 'x-user': user }, concurrency: 2, partSize: PART, stateDir: dir, resume: true }).upload(path)
    await Promise.race([hold.reached, upload.done])
    upload.abort()
    hold.release()
    const error = await upload.done.catch((e: unknown) => e)
    expect(isValetError(error) && error.code).toBe('aborted')
    await keys.idle()
    // This user's calls only: an earlier case's client repeats its DELETE 1.5 s after its abort,
    // which can land in this window.
    const calls = keys.calls.slice(callsFrom).filter((c) => c.user === user)
    expect(calls[0], 'the client API resumed the CLI upload').toMatchObject({ op: 'list', uploadId: state.uploadId })
    expect(calls.filter((c) => c.op === 'create')).toEqual([])
    expect(await stateFile(dir), 'abort forgets the resume state').toBeUndefined()
    expect(await swift.read(state.key)).toBeUndefined()
    return { deletes: calls.filter((c) => c.op === 'abort').map((c) => [c.uploadId, c.status]), state, open: await openSoon(`${user}/`) }
  }

  it('abort after a crash: DELETE with the saved token leaves no open upload and a rerun starts over; so does the client API resuming then abort()', async () => {
    const bytes = generate(4 * PART, 77)
    const path = join(work, 'abort.bin')
    await writeFile(path, bytes)

    // (a) The upload a killed CLI left, aborted with DELETE and its saved token; a rerun starts over.
    const user = `crash-abort-delete-${randomUUID()}`
    const dir = join(work, 'state-abort-delete')
    const state = await crash(path, user, dir)
    const del = await fetch(`${keys.endpoint}/uploads/${encodeURIComponent(state.uploadId)}`, { method: 'DELETE', headers: { 'valet-token': state.token, 'x-user': user } })
    expect(del.status).toBe(204)
    expect(await openSoon(`${user}/`)).toBe(0)
    proxy.rate = Number.POSITIVE_INFINITY
    const rerun = valet(['upload', path, '--endpoint', keys.endpoint, '--state-dir', dir, '--json', '--part-size', '5MiB', '--concurrency', '2', '--header', `x-user: ${user}`], work, proxy.env())
    expect((await rerun.exit).code, rerun.stderr()).toBe(0)
    const [done] = jsonLines(rerun.stdout())
    expect(done!.uploadId, 'the aborted upload is gone, so the rerun creates a new one').not.toBe(state.uploadId)
    expect(sha256((await swift.read(done!.key))!.bytes)).toBe(sha256(bytes))
    expect(await swift.openUploads(`${user}/`)).toBe(0)
    expect(await swift.read(state.key), 'the aborted key holds no object').toBeUndefined()

    // (b) The client API resumes the killed CLI's upload (same state dir) and abort() comes while
    // it waits for part keys: the upload it resumed is deleted.
    const b = await abortWhileHeld(path, 'sign')
    expect(b.deletes[0]).toEqual([b.state.uploadId, 204])
    expect(b.open).toBe(0)
  }, 60_000)

  // Fails today: run-upload.ts deletes only when a session is open (`cleanUpAborted(session)`),
  // but an abort() while resume lists or re-hashes stored parts comes before that, so the resume
  // state is removed and the storage upload it named is never deleted: an orphan nobody can reach.
  it('abort() while resuming (its list call in flight) deletes the upload it was resuming', async () => {
    const path = join(work, 'abort-resuming.bin')
    await writeFile(path, generate(4 * PART, 78))
    const c = await abortWhileHeld(path, 'list')
    expect.soft(c.deletes[0], 'a DELETE for the upload the resume state named').toEqual([c.state.uploadId, 204])
    expect(c.open, 'open uploads under the prefix once abort() settled').toBe(0)
  }, 60_000)
})
