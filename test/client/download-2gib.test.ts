/**
 * Issue 16's "done when", for Node: a plain Node script downloads a 2 GiB object that Valet
 * uploaded, with read keys from a real key endpoint on Swift s3api; it is SIGKILLed halfway, run
 * again, and ends with a file whose SHA-256 equals the upload's, having fetched again only the
 * parts the killed run had not finished. The script reports its peak RSS.
 *
 * Heavy (2 GiB up, 2 GiB down, ~6 GiB of disk): runs with `VALET_BIG=1` and in `pnpm test:soak`,
 * skipped (and saying so) otherwise.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GiB, MiB } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { createUploader } from '@valet/client'
import { generate } from '../support/key-endpoint.js'
import { providerAt } from '../support/storages.js'
import { startKeyServer, type KeyServer } from '../support/key-server.js'
import { AUTH, authorize } from './harness.js'

const BIG = process.env.VALET_BIG === '1' || process.env.VALET_SOAK === '1'
const CLIENT = fileURLToPath(new URL('../../packages/client/dist/index.node.js', import.meta.url))
const SIZE = 2 * GiB

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** The script a user would write: one download, progress as JSON lines, the result and peak RSS at the end. */
const SCRIPT = `
import { createDownloader } from ${JSON.stringify(CLIENT)}
const [endpoint, token, key, dest, stateDir] = process.argv.slice(2)
const downloader = createDownloader({ endpoint, headers: { authorization: 'Bearer ' + token }, stateDir })
const dl = downloader.download(key, dest, { onProgress: (p) => console.log(JSON.stringify({ progress: p })) })
const result = await dl.done
console.log(JSON.stringify({ result, maxRssKiB: process.resourceUsage().maxRSS }))
`

describe.skipIf(!BIG)('2 GiB download from a Node script, killed halfway and run again (VALET_BIG=1)', () => {
  let keys: KeyServer
  let dir: string
  beforeAll(async () => {
    keys = await startKeyServer(providerAt('swift'), { authorize, canRead: ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`) })
    dir = await mkdtemp(join(tmpdir(), 'valet-2gib-'))
  })
  afterAll(async () => {
    await keys?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('ends with the uploaded bytes, refetching only what the killed run had not finished', async () => {
    const source = join(dir, 'source.bin')
    const file = await open(source, 'w')
    for (let at = 0, seed = 1; at < SIZE; at += 64 * MiB, seed++) await file.write(generate(64 * MiB, seed))
    await file.close()
    const expected = await sha256File(source)
    const up = await createUploader({ endpoint: keys.endpoint, headers: AUTH, resume: false }).upload(source).done
    await rm(source)
    const script = join(dir, 'download.mjs')
    await writeFile(script, SCRIPT)
    const dest = join(dir, 'copy.bin')
    const stateDir = join(dir, 'state')
    const run = (killAt?: number) =>
      new Promise<{ lines: any[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }>((resolve) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const child = spawn(process.execPath, [script, keys.endpoint, AUTH.authorization.slice('Bearer '.length), up.key, dest, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] })
        const lines: any[] = [] // eslint-disable-line @typescript-eslint/no-explicit-any
        let buffer = ''
        let stderr = ''
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        child.stdout.on('data', (c: Buffer) => {
          buffer += c.toString()
          for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
            const line = JSON.parse(buffer.slice(0, nl))
            buffer = buffer.slice(nl + 1)
            lines.push(line)
            if (killAt !== undefined && (line.progress?.bytesVerified ?? 0) >= killAt) child.kill('SIGKILL')
          }
        })
        child.once('close', (code, signal) => resolve({ lines, code, signal, stderr }))
      })
    const first = await run(SIZE / 2)
    expect(first.signal, first.stderr).toBe('SIGKILL')
    const verifiedAtKill = Math.max(...first.lines.map((l) => l.progress?.bytesVerified ?? 0))
    expect(existsSync(dest)).toBe(false)
    expect(existsSync(`${dest}.valet-partial`)).toBe(true)
    const second = await run()
    expect(second.code, second.stderr).toBe(0)
    const last = second.lines.at(-1)
    expect(last.result).toMatchObject({ key: up.key, size: SIZE, path: dest, verified: 'parts' })
    const resumed = second.lines.find((l) => l.progress)?.progress.bytesResumed
    // What the killed run had verified is kept (re-checked against the part MD5s), nothing more is fetched.
    expect(resumed).toBeGreaterThanOrEqual(verifiedAtKill)
    expect(await sha256File(dest)).toBe(expected)
    expect(existsSync(`${dest}.valet-partial`)).toBe(false)
    expect(await readdir(stateDir)).toEqual([])
    const rssMiB = last.maxRssKiB / 1024
    process.stderr.write(`2 GiB download: killed at ${(verifiedAtKill / MiB).toFixed(0)} MiB verified, resumed ${(resumed / MiB).toFixed(0)} MiB, peak RSS of the second run ${rssMiB.toFixed(0)} MiB\n`)
    // The bound is 80 MiB + concurrency × range size (4 × 64 MiB parts here); memory must
    // not grow with the part at all, let alone the object: a quarter of one part per GET at most.
    expect(rssMiB).toBeLessThan(80 + 4 * 16)
  }, 900_000)
})
