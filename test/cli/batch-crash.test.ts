/**
 * The built `valet upload` of a directory (many small files sent as single PUTs with batched
 * creates and completes, and one multipart file) SIGKILLed mid-batch on Swift s3api, then run
 * again with the same state dir: every file completes, byte for byte; every file that had
 * resume state at the kill is finished by that same upload (a pending create is sent again
 * with its requestId); no file gets an upload nobody finishes; no multipart upload stays open.
 *
 * A file that completed before the kill is not uploaded again: the run journal in the state dir
 * (run-journal.ts) says so, and the rerun reports it from there. Exactly one object per file.
 * Runs `packages/cli/dist/bin.js`: build first (`pnpm run build`).
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AwsClient } from 'aws4fetch'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { byUserHeader, generate, sha256 } from '../support/key-endpoint.js'
import { swiftCase } from '../support/storages.js'
import { startKeyServer, type KeyServer } from '../support/key-server.js'
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js'
import { BIN, runValet, until } from './run-cli.js'

const MiB = 1024 * 1024
const SMALL = 60
const PRINCIPAL = `batch-crash-${randomUUID()}`

const swift = swiftCase()
let work: string
let proxy: ThrottleProxy
let keys: KeyServer
const sources = new Map<string, Uint8Array>()

function aws() {
  const info = inject('swift')
  return { info, client: new AwsClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey, region: info.region, service: 's3' }) }
}

/** Object keys under the prefix (ListObjectsV2; fewer than 1,000 here). */
async function objectKeys(prefix: string): Promise<string[]> {
  const { info, client } = aws()
  const res = await client.fetch(`${info.endpoint}/${info.bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`)
  const text = await res.text()
  if (!res.ok) throw new Error(`ListObjectsV2: ${res.status} ${text}`)
  return [...text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!)
}

async function openUploads(prefix: string): Promise<number> {
  const { info, client } = aws()
  const res = await client.fetch(`${info.endpoint}/${info.bucket}?uploads&prefix=${encodeURIComponent(prefix)}`)
  const text = await res.text()
  if (!res.ok) throw new Error(`ListMultipartUploads: ${res.status} ${text}`)
  return [...text.matchAll(/<Upload>/g)].length
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jsonLines = (text: string): Record<string, any>[] => text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
/** The file a key names: the last segment (the files' base names are unique here). */
const baseOf = (path: string) => path.split('/').at(-1)!

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = await mkdtemp(join(tmpdir(), 'valet-batch-crash-'))
  await mkdir(join(work, 'dir'))
  for (let i = 0; i < SMALL; i++) sources.set(`dir/s${String(i).padStart(2, '0')}.txt`, generate(2_000 + ((i * 7919) % 30_000), 500 + i))
  sources.set('dir/big.bin', generate(12 * MiB + 77, 9))
  for (const [name, data] of sources) await writeFile(join(work, name), data)
  proxy = await startThrottleProxy()
  keys = await startKeyServer(swift.provider(), { authorize: byUserHeader(PRINCIPAL), onError: () => {} })
})

afterAll(async () => {
  await keys?.close()
  await proxy?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('valet upload of a directory, SIGKILLed mid-batch, on Swift s3api', () => {
  it('the rerun completes every file, continuing the uploads it has state for; nothing left open', async () => {
    const stateDir = join(work, 'state')
    const args = ['upload', 'dir', '--endpoint', keys.endpoint, '--state-dir', stateDir, '--json', '--concurrency', '4', '--part-size', '5MiB']
    // Slow enough that the kill finds files in every stage: created ahead, sending, completing.
    proxy.rate = 3 * MiB
    const first = runValet(args, { cwd: work, env: proxy.env() })
    await until('a dozen files complete', () => (jsonLines(first.stdout()).length >= 12 ? true : undefined), 60_000, first)
    first.child.kill('SIGKILL')
    await first.exit
    await keys.idle()
    const doneFirst = new Set(jsonLines(first.stdout()).map((l) => l.name as string))
    expect(doneFirst.size).toBeLessThan(sources.size)

    // What the kill left: the state of unfinished uploads (pending creates: just their requestId).
    const states = await Promise.all(
      (await readdir(stateDir)).filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(stateDir, n), 'utf8'))),
    )
    const created = states.filter((s) => s.pending !== true)
    const pending = states.filter((s) => s.pending === true)
    console.log(`kill: ${doneFirst.size} files done, ${created.length} uploads with state, ${pending.length} pending creates`)
    expect(created.length + pending.length).toBeGreaterThan(0)

    proxy.rate = Number.POSITIVE_INFINITY
    const callsFrom = keys.calls.length
    const second = runValet(args, { cwd: work, env: proxy.env() })
    const exit = await second.exit
    expect(exit.code, second.stderr()).toBe(0)
    await keys.idle()
    const lines = jsonLines(second.stdout())
    expect(lines.map((l) => l.name).sort()).toEqual([...sources.keys()].sort())

    // Every file is stored whole, at the key its line names.
    for (const line of lines) {
      const object = await swift.read(line.key)
      expect(sha256(object?.bytes ?? new Uint8Array()), line.name).toBe(sha256(sources.get(line.name)!))
    }
    // Uploads with state were continued, not started again: same key, same upload.
    const byKey = new Map(lines.map((l) => [l.key as string, l]))
    for (const s of created) expect(byKey.get(s.key)?.uploadId, `${s.key} resumed`).toBe(s.uploadId)
    // Pending creates went out again as the same creates.
    const calls = keys.calls.slice(callsFrom)
    const requestIds = new Set(
      calls.flatMap((c) => (c.op === 'create' ? [c.request?.requestId] : c.op === 'create-batch' ? (c.request?.uploads ?? []).map((u: { requestId?: string }) => u.requestId) : [])),
    )
    for (const p of pending) expect(requestIds.has(p.requestId), `pending create ${p.requestId} sent again`).toBe(true)

    // Exactly one object per file, and nothing half-done anywhere.
    const counts = new Map<string, number>()
    for (const key of await objectKeys(`${PRINCIPAL}/`)) counts.set(baseOf(key), (counts.get(baseOf(key)) ?? 0) + 1)
    for (const name of [...sources.keys()].map(baseOf)) expect(counts.get(name) ?? 0, `${name}: one object`).toBe(1)
    // Files the first run finished are reported again with the same key, not sent.
    for (const line of lines.filter((l) => doneFirst.has(l.name))) expect(line.bytesResumed, line.name).toBe(line.size)
    expect(await openUploads(`${PRINCIPAL}/`), 'multipart uploads left open').toBe(0)
    expect(await readdir(stateDir), 'resume state and run journal left').toEqual([])
    const twice = [...counts.entries()].filter(([, n]) => n > 1).map(([name]) => name)
    console.log(`rerun: ${calls.length} key calls for ${sources.size - doneFirst.size} files left; ${twice.length} stored twice`)
  })
})
