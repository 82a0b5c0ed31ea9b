/** What a command reads and writes besides its arguments, so tests can run commands in-process. */
import { dirname, resolve } from 'node:path'
import type { TextOutput } from './progress-renderer.js'

/**
 * The streams, working directory and environment a command uses; tests pass their own.
 *
 * @example
 * ```ts
 * let out = ''
 * await main(['--help'], { stdout: { write: (s) => (out += s) }, stderr: process.stderr, cwd: process.cwd(), env: {} })
 * ```
 */
export interface CliIo {
  stdout: TextOutput
  stderr: TextOutput
  cwd: string
  env: NodeJS.ProcessEnv
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: invocationDir(process.env, process.cwd()), env: process.env }
}

/**
 * Where the user ran the command. A package script (`pnpm valet upload ../x`, `npm run …`) runs
 * in the package's folder, but npm and pnpm keep the user's folder in `INIT_CWD`: relative paths
 * must resolve from there. Only while still in that folder, though: a process a script started
 * elsewhere (a test spawning the CLI in its own directory) inherits the variables, and outside a
 * script `INIT_CWD` may be stale.
 */
export function invocationDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const scriptDir = env.npm_package_json === undefined ? undefined : dirname(env.npm_package_json)
  const inScript = env.npm_lifecycle_event !== undefined && (scriptDir === undefined || resolve(scriptDir) === resolve(cwd))
  return inScript && env.INIT_CWD ? env.INIT_CWD : cwd
}

/**
 * Exit codes: 0 all good, 1 something failed, 2 usage error, 128 + signal when interrupted.
 *
 * @example
 * ```ts
 * if ((await main(argv)) === EXIT.sigint) console.error('paused; rerun to resume')
 * ```
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const
