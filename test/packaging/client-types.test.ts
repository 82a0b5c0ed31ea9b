/**
 * What a TypeScript user of the published @valet/client sees: the built .d.ts files resolved
 * through the package's `exports`, the way a bundler-based app (Vite, Next) resolves them.
 * The `.` entry's types are the Node ones unless the app asks for the `browser` condition, so
 * browser apps either set `customConditions: ["browser"]` or import `@valet/client/browser`.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLIENT = fileURLToPath(new URL('../../packages/client/', import.meta.url))

const BROWSER_APP = `
import { createUploader, createIndexedDbResumeStore, createMd5Hasher, type Md5Engine } from 'SPECIFIER'
const engine: Md5Engine = 'auto'
const hasher = createMd5Hasher({ engine, workers: 1 })
const uploader = createUploader({ endpoint: '/api/valet', resume: createIndexedDbResumeStore() })
declare const file: File
const upload = uploader.upload(file, { onProgress: (p) => p.bytesSent })
export const done: Promise<{ key: string }> = upload.done
hasher.close()
`

const NODE_APP = `
import { createUploader } from '@valet/client'
const uploader = createUploader({ endpoint: 'http://127.0.0.1:3000/api/valet', stateDir: '.valet/state' })
export const done: Promise<{ key: string }> = uploader.upload('./big.bin').done
`

let dir: string

function typeErrors(file: string, options: ts.CompilerOptions): string[] {
  const program = ts.createProgram([join(dir, file)], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // The .d.ts files themselves are checked when they are built; here only their use matters.
    skipLibCheck: true,
    types: [],
    ...options,
  })
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

beforeAll(async () => {
  if (!existsSync(join(CLIENT, 'dist', 'index.browser.d.ts'))) throw new Error('packages/client/dist is missing: run "pnpm run build" first')
  dir = await mkdtemp(join(tmpdir(), 'valet-types-'))
  await mkdir(join(dir, 'node_modules', '@valet'), { recursive: true })
  await symlink(CLIENT, join(dir, 'node_modules', '@valet', 'client'), 'dir')
  await writeFile(join(dir, 'browser-subpath.ts'), BROWSER_APP.replace('SPECIFIER', '@valet/client/browser'))
  await writeFile(join(dir, 'browser-condition.ts'), BROWSER_APP.replace('SPECIFIER', '@valet/client'))
  await writeFile(join(dir, 'node-app.ts'), NODE_APP)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('@valet/client types as an app sees them', () => {
  const dom = { lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] }

  it('a browser app importing @valet/client/browser type-checks with no extra settings', () => {
    expect(typeErrors('browser-subpath.ts', dom)).toEqual([])
  })

  it('a browser app importing @valet/client type-checks with customConditions: ["browser"]', () => {
    expect(typeErrors('browser-condition.ts', { ...dom, customConditions: ['browser'] })).toEqual([])
    // Without the condition it sees the Node entry, which has no IndexedDB store: the reason
    // the docs name the two ways above.
    expect(typeErrors('browser-condition.ts', dom).join('\n')).toMatch(/createIndexedDbResumeStore/)
  })

  it('a Node app importing @valet/client type-checks with file paths', () => {
    expect(typeErrors('node-app.ts', { lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: ['node'], typeRoots: [join(CLIENT, '..', '..', 'node_modules', '@types')] })).toEqual([])
  })
})
