/** Test-only: a {@link CliIo} that keeps what a command writes, for in-process command tests. */
import type { CliIo } from '../cli-io.js'

export function memoryIo(cwd: string, env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd,
    env,
    out: () => out,
    err: () => err,
  }
}
