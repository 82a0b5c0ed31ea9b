/** The built `valet` executable as a subprocess, for the CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** `pnpm test` builds first; run `pnpm run build` by hand otherwise. */
export const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `valet ARGS`. `detached` gives it its own process group, so teardown can reach the
 * children of `valet dev` (Azurite) if it dies badly.
 */
export function runValet(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; detached?: boolean }): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  return { child, stdout: () => out, stderr: () => err, exit }
}

/** Polls `probe` until it returns a value; fails with the CLI's output if it exits or time runs out. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  run?: Run,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (run && run.child.exitCode !== null) throw new Error(`${what}: the CLI exited first.\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`)
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms.${run ? `\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}` : ''}`)
    await sleep(intervalMs)
  }
}

/** Starts `valet ARGS` (`dev …`) in its own process group; resolves once it prints its key endpoint. */
export async function startValetDev(args: string[], cwd: string): Promise<{ dev: Run; endpoint: string }> {
  const dev = runValet(args, { cwd, detached: true })
  const endpoint = await until('valet dev prints its endpoint', () => /endpoint:\s+(http:\/\/127\.0\.0\.1:\d+\/api\/valet)\s/.exec(dev.stdout())?.[1], 45_000, dev)
  return { dev, endpoint }
}

/** SIGKILLs a `valet dev` still running, with its process group (its Azurite too). */
export function killValetDev(dev: Run | undefined): void {
  if (!dev || dev.child.exitCode !== null || dev.child.signalCode !== null) return
  try {
    process.kill(-dev.child.pid!, 'SIGKILL')
  } catch {
    // Already gone.
  }
}
