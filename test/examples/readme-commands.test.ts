/**
 * Every example README's shell commands, run as written (`bash -c LINE`, from the repository
 * root), against real storage: the framework examples on their own local Azurite, node-cli and
 * browser against `pnpm start` (the page driven in Chromium), Next against Swift (its S3_*
 * variables exported, as its README asks). A line whose comment names a URL ("key endpoint on
 * http://…", "valet dev on http://…") is a server: it runs in the background until the block is
 * done, and the next line waits until that URL answers. A line "in another terminal" runs from
 * the repository root; a `cd` carries over to the lines after it, as in one terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { launchChromium } from '../browser/harness.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

interface Line {
  command: string
  /** The URL a server line announces; undefined for a command that runs to completion. */
  serves: string | undefined
  anotherTerminal: boolean
}

async function readmeCommands(example: string): Promise<Line[]> {
  const text = await readFile(join(ROOT, 'examples', example, 'README.md'), 'utf8')
  const block = /```sh\n([\s\S]*?)```/.exec(text)
  if (!block) throw new Error(`examples/${example}/README.md has no sh block`)
  return block[1]!
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((command) => {
      const comment = /\s#\s(.*)$/.exec(command)?.[1] ?? ''
      return { command, serves: /\bon (http:\/\/[^\s,;]+)/.exec(comment)?.[1], anotherTerminal: /another terminal/.test(comment) }
    })
}

const running: ChildProcess[] = []

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null) continue
    const exited = new Promise((ok) => child.once('exit', ok))
    try {
      process.kill(-child.pid!, 'SIGTERM') // the whole group: pnpm, node, Azurite, next
    } catch {
      // gone already
    }
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))])
  }
})

function bash(command: string, cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  // Not vitest's environment: what a person's shell has (no npm_* variables of the test run).
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'INIT_CWD' && !k.startsWith('VITEST')))
  const child = spawn('bash', ['-c', command], { cwd, env: { ...clean, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => (out += c))
  child.stderr!.on('data', (c: Buffer) => (out += c))
  return { child, output: () => out }
}

/** Until `url` answers with anything but 503 (valet dev answers 503 while its storage starts). */
async function answers(url: string, server: { child: ChildProcess; output: () => string }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the server exited ${server.child.exitCode}:\n${server.output()}`)
    const status = await fetch(url, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status, () => 0)
    if (status !== 0 && status !== 503) return
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${server.output()}`)
    await new Promise((ok) => setTimeout(ok, 250))
  }
}

/** Runs a README's block; resolves with each finished command's output. */
async function runReadme(example: string, env: NodeJS.ProcessEnv = {}, serverTimeoutMs = 60_000): Promise<string[]> {
  const outputs: string[] = []
  let cwd = ROOT
  for (const line of await readmeCommands(example)) {
    const dir = line.anotherTerminal ? ROOT : cwd
    const run = bash(line.command, dir, env)
    if (line.serves !== undefined) {
      running.push(run.child)
      await answers(line.serves, run, serverTimeoutMs)
      continue
    }
    // A finished line may have changed directory: carry it over, as one terminal would.
    const code = await new Promise<number | null>((ok) => run.child.once('close', ok))
    expect(code, `examples/${example}: \`${line.command}\` failed:\n${run.output()}`).toBe(0)
    outputs.push(run.output())
    const cd = /^cd (\S+) &&/.exec(line.command)?.[1]
    if (cd !== undefined && !line.anotherTerminal) cwd = join(dir, cd)
  }
  return outputs
}

describe.sequential('example READMEs, run as written', () => {
  it.each(['node-http', 'express', 'fastify', 'hono'])('examples/%s: start the key endpoint, upload README.md with valet upload', async (example) => {
    const outputs = await runReadme(example)
    expect(outputs.at(-1)).toMatch(/done {3}README\.md \(.* key alice\//)
  }, 120_000)

  it('examples/node-cli: pnpm start, then the script uploads README.md', async () => {
    const outputs = await runReadme('node-cli')
    expect(outputs.at(-1)).toMatch(/README\.md → dev\/\S+ \(\d+ bytes, etag /)
  }, 120_000)

  it('examples/browser: pnpm start, then the page uploads a file in Chromium', async () => {
    await runReadme('browser')
    const chromium = await launchChromium()
    try {
      const page = await chromium.context.newPage()
      await page.goto('http://127.0.0.1:3000/')
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
      await page.evaluate(() => {
        const file = new File([new Uint8Array(6 * 2 ** 20).fill(7)], 'from-readme.bin')
        ;(window as unknown as { valetExample: { addFiles(files: File[]): void } }).valetExample.addFiles([file])
      })
      const row = page.locator('[data-status]').first()
      await row.locator('xpath=.').waitFor()
      await page.waitForFunction(() => document.querySelector('[data-status]')?.getAttribute('data-status') === 'done', undefined, { timeout: 60_000 })
      expect(await row.getAttribute('data-key')).toMatch(/^dev\/.*from-readme\.bin$/)
    } finally {
      await chromium.close()
    }
  }, 180_000)

  it('examples/next: installs Next on its own, pnpm dev against Swift, valet upload', async () => {
    const swift = inject('swift')
    const env = {
      S3_BUCKET: swift.bucket,
      S3_ENDPOINT: swift.endpoint,
      S3_REGION: swift.region,
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
      NEXT_TELEMETRY_DISABLED: '1',
    }
    const outputs = await runReadme('next', env, 180_000)
    expect(outputs.at(-1)).toMatch(/done {3}README\.md \(.* key alice\//)
  }, 600_000)
})
