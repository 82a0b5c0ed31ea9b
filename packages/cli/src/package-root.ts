/** Finds files that ship next to the CLI, wherever rollup put the chunk that asks. */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | null | undefined

/** Directory of `@valet/cli`'s package.json (the code may sit in `src/`, `dist/` or `dist/chunks/`). */
export function packageRoot(): string | undefined {
  if (cached !== undefined) return cached ?? undefined
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json')
    try {
      if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === '@valet/cli') {
        cached = dir
        return dir
      }
    } catch {
      // An unreadable package.json on the way up is not ours.
    }
    dir = dirname(dir)
  }
  cached = null
  return undefined
}

/** `@valet/cli`'s version, or `unknown` outside its package. */
export function cliVersion(): string {
  const root = packageRoot()
  if (!root) return 'unknown'
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
}

/**
 * The uploader page: the repository's `examples/browser/` when the CLI runs from a checkout of
 * the monorepo (edits show without a build), else the copy the build put in `dist/page/`;
 * `undefined` if neither exists (the dev server then serves its built-in page).
 */
export function examplePageDir(): string | undefined {
  const root = packageRoot()
  if (!root) return undefined
  const repo = resolve(root, '..', '..')
  const inRepo = join(repo, 'examples', 'browser')
  if (existsSync(join(repo, 'pnpm-workspace.yaml')) && existsSync(join(inRepo, 'index.html'))) return inRepo
  const shipped = join(root, 'dist', 'page')
  return existsSync(join(shipped, 'index.html')) ? shipped : undefined
}
