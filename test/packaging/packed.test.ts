/**
 * The four packages as users get them: `pnpm pack`, then installed with plain npm into a scratch
 * project (their third-party dependencies from the registry). There: arethetypeswrong (ESM-only
 * profile) and publint find nothing; a browser app under `moduleResolution: "bundler"` (DOM lib,
 * no customConditions) and a Node app under `nodenext` type-check against the README's snippets
 * and get the right declarations; the installed packages upload to real storage (Swift) from a
 * Node script, from the installed CLI, and from Chromium (the standalone bundle, and the package
 * bundled by esbuild with its lazy chunks); the installed `valet dev` serves the uploader page and,
 * without Azurite, says the one command that adds it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium, type Chromium } from '../browser/harness.js'
import { generate, sha256 } from '../support/key-endpoint.js'
import { expectStored, swiftCase } from '../support/storages.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./app/', import.meta.url))
const PACKAGES = ['protocol', 'server', 'client', 'cli'] as const
const MiB = 1024 * 1024

let scratch: string
let app: string
const tarball = (name: string) => join(scratch, 'packs', `valet-${name}-0.1.0.tgz`)
let server: ChildProcess
let origin: string

/** The code block right after a README heading. */
async function readmeBlock(heading: string): Promise<string> {
  const text = await readFile(join(ROOT, 'README.md'), 'utf8')
  const at = text.indexOf(`## ${heading}\n`)
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(at))
  if (at < 0 || !block) throw new Error(`README.md has no ts block under "## ${heading}"`)
  return block[1]!
}

/** Writes `lines` to `file` in the app and type-checks it as the app's own code would be. */
async function compile(file: string, lines: string[], options: ts.CompilerOptions): Promise<{ errors: string[]; files: string[] }> {
  await writeFile(join(app, file), lines.join('\n'))
  const program = ts.createProgram([join(app, file)], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, ...options })
  const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  return { errors, files: program.getSourceFiles().map((f) => f.fileName) }
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'valet-packed-'))
  app = join(scratch, 'app')
  await mkdir(app, { recursive: true })
  for (const name of PACKAGES) await run('pnpm', ['pack', '--pack-destination', join(scratch, 'packs')], { cwd: join(ROOT, 'packages', name) })
  const dependencies = Object.fromEntries(PACKAGES.map((n) => [`@valet/${n}`, `file:${tarball(n)}`]))
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'valet-packed-app', private: true, type: 'module', dependencies }, null, 2))
  await cp(FIXTURES, app, { recursive: true })
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app })

  const swift = inject('swift')
  server = spawn(process.execPath, ['server.mjs'], {
    cwd: app,
    env: {
      ...process.env,
      S3_ENDPOINT: swift.endpoint, S3_REGION: swift.region, S3_BUCKET: swift.bucket,
      AWS_ACCESS_KEY_ID: swift.accessKeyId, AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
      VALET_SECRET: randomBytes(32).toString('hex'), BUNDLE_DIR: join(app, 'bundle'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  origin = await new Promise<string>((ok, fail) => {
    let out = ''
    server.stdout!.on('data', (c: Buffer) => {
      out += c
      const url = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
      if (url) ok(url)
    })
    server.once('exit', (code) => fail(new Error(`the packed key server exited ${code}: ${out}`)))
  })
}, 300_000)

afterAll(async () => {
  server?.kill('SIGTERM')
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

describe('the packed packages', () => {
  it.each(PACKAGES)('@valet/%s: LICENSE, README, repository, engines, no workspace: ranges, nothing stale', async (name) => {
    const { stdout: list } = await run('tar', ['-tzf', tarball(name)])
    const files = list.split('\n').filter(Boolean)
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json']))
    expect(files.filter((f) => f.endsWith('.cjs') || f.includes('.test.')), 'ESM only, no tests').toEqual([])
    const { stdout: manifest } = await run('tar', ['-xzOf', tarball(name), 'package/package.json'])
    expect(manifest).not.toMatch(/workspace:/)
    const pkg = JSON.parse(manifest)
    expect(pkg).toMatchObject({ license: 'MIT', type: 'module', engines: { node: expect.stringMatching(/20\.19/) } })
    expect(pkg.repository).toEqual({ type: 'git', url: 'git+https://github.com/valet-dev/valet.git', directory: `packages/${name}` })
  })

  it.each(PACKAGES)('@valet/%s: arethetypeswrong (ESM-only profile) and publint (strict) find nothing', async (name) => {
    const attw = await run(join(ROOT, 'node_modules/.bin/attw'), [tarball(name), '--profile', 'esm-only', '--format', 'ascii'], { cwd: scratch }).catch((e) => e)
    expect(attw.code ?? 0, attw.stdout).toBe(0)
    const publint = await run(join(ROOT, 'node_modules/.bin/publint'), ['--strict', '--pack', 'pnpm'], { cwd: join(ROOT, 'packages', name) }).catch((e) => e)
    expect(publint.code ?? 0, `${publint.stdout}${publint.stderr}`).toBe(0)
    expect(publint.stdout).toMatch(/All good/)
  })

  it('a browser app under moduleResolution "bundler" (DOM lib, no customConditions) type-checks the README client snippet', async () => {
    const snippet = await readmeBlock('Client')
    const source = [
      "import { createIndexedDbResumeStore, createMd5Hasher, type Md5Engine } from '@valet/client'",
      'declare const token: string',
      'declare const file: File',
      'declare const files: File[]',
      snippet,
      "const engine: Md5Engine = 'auto'",
      'createMd5Hasher({ engine }).close()',
      "export const second = createUploader({ endpoint: '/api/valet', resume: createIndexedDbResumeStore() }).upload(file).done",
    ]
    const { errors, files } = await compile('browser-app.ts', source, {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
      skipLibCheck: false,
    })
    expect(errors).toEqual([])
    expect(files.some((f) => f.endsWith('@valet/client/dist/index.browser.d.ts'))).toBe(true)
    expect(files.some((f) => f.endsWith('index.node.d.ts'))).toBe(false)
  })

  it('a Node app under nodenext type-checks the README server snippet and a file-path upload', async () => {
    const snippet = await readmeBlock('Server')
    const source = [
      "import { createUploader } from '@valet/client'",
      'declare const accessKeyId: string, secretAccessKey: string',
      'declare function sessionOf(request: Request): Promise<{ user: { id: string } } | null>',
      'declare const db: { files: { insert(row: object): Promise<unknown> } }',
      snippet,
      "export const done = createUploader({ endpoint: 'http://127.0.0.1:3000/api/valet', stateDir: '.valet/state' }).upload('./big.iso').done",
    ]
    const { errors, files } = await compile('node-app.ts', source, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
      skipLibCheck: true,
    })
    expect(errors).toEqual([])
    expect(files.some((f) => f.endsWith('@valet/client/dist/index.node.d.ts'))).toBe(true)
  })

  it('uploads from a Node script and from the installed valet CLI to Swift', async () => {
    const storage = swiftCase()
    const bytes = generate(11 * MiB, 41)
    await writeFile(join(app, 'node.bin'), bytes)
    const { stdout } = await run(process.execPath, ['upload-node.mjs', 'node.bin', `${origin}/api/valet`], { cwd: app })
    await expectStored(storage, JSON.parse(stdout).key, { size: bytes.length, sha256: sha256(bytes) })

    const cli = await run(join(app, 'node_modules/.bin/valet'), ['upload', 'node.bin', '--endpoint', `${origin}/api/valet`, '--json', '--state-dir', 'cli-state'], { cwd: app })
    await expectStored(storage, JSON.parse(cli.stdout).key, { size: bytes.length, sha256: sha256(bytes) })
  })

  describe('in Chromium', () => {
    let chromium: Chromium
    beforeAll(async () => {
      chromium = await launchChromium()
    })
    afterAll(async () => {
      await chromium?.close()
    })

    it.each(['standalone', 'bundled'])('uploads from the %s browser build; lazy chunks load with the first upload', async (kind) => {
      if (kind === 'bundled') {
        await build({ entryPoints: [join(app, 'page-entry.js')], absWorkingDir: app, bundle: true, splitting: true, format: 'esm', platform: 'browser', minify: true, outdir: join(app, 'bundle'), logLevel: 'error' })
      }
      const page = await chromium.context.newPage()
      const scripts: string[] = []
      page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname))
      page.on('pageerror', (e) => console.error('[packed page]', e.message))
      await page.goto(`${origin}/${kind}.html`)
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
      const atLoad = scripts.length
      const size = 12 * MiB
      const result = await page.evaluate(async (size) => {
        const bytes = new Uint8Array(size)
        for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536))
        const uploader = (window as any).createUploader({ endpoint: '/api/valet', partSize: 5 * 2 ** 20 })
        const done = await uploader.upload(new File([bytes], `${size}.bin`)).done
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
        return { key: done.key as string, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') }
      }, size)
      await expectStored(swiftCase(), result.key, { size, sha256: result.sha256 })
      // The bundled page fetches the engine and the worker script only once an upload starts.
      if (kind === 'bundled') expect(scripts.length, scripts.join(', ')).toBeGreaterThan(atLoad)
      await page.close()
    })
  })

  it('the installed valet dev serves the uploader page, and without Azurite says the command that adds it', async () => {
    const swift = inject('swift')
    const env = { ...process.env, npm_config_user_agent: '' }
    const dev = spawn(join(app, 'node_modules/.bin/valet'), ['dev', '--port', '0', '--dir', join(scratch, 'dev'), '--storage', 's3', '--s3-endpoint', swift.endpoint, '--s3-bucket', swift.bucket, '--s3-region', swift.region, '--s3-access-key', swift.accessKeyId, '--s3-secret-key', swift.secretAccessKey], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const page = await new Promise<string>((ok, fail) => {
        let out = ''
        dev.stdout!.on('data', (c: Buffer) => {
          out += c
          const url = /page:\s+(http:\S+)/.exec(out)?.[1]
          if (url) ok(url)
        })
        dev.once('exit', (code) => fail(new Error(`valet dev exited ${code}: ${out}`)))
      })
      const html = await (await fetch(page)).text()
      expect(html, 'the example uploader page, not a placeholder').toMatch(/app\.js/)
      expect((await fetch(new URL('app.js', page))).status).toBe(200)
      expect((await fetch(new URL('valet-client.js', page))).status).toBe(200)
    } finally {
      dev.kill('SIGTERM')
    }
    const noAzurite = await run(join(app, 'node_modules/.bin/valet'), ['dev', '--port', '0', '--dir', join(scratch, 'dev2')], { cwd: app, env }).catch((e) => e)
    expect(noAzurite.code).toBe(1)
    expect(noAzurite.stderr).toMatch(/Azurite.*azurite is not installed[\s\S]*npm install --save-dev azurite/)
  })
})
