/**
 * Optional peers of `@valet/cli` (Azurite, the Azure SDK): found next to the CLI or in the project
 * it runs in, and when missing, an error that says the one command that adds them.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'

/** The install command for `name`, in the package manager that ran this process. */
export function addCommand(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const agent = env.npm_config_user_agent ?? ''
  if (agent.startsWith('pnpm/')) return `pnpm add -D ${name}`
  if (agent.startsWith('yarn/')) return `yarn add -D ${name}`
  if (agent.startsWith('bun/')) return `bun add -d ${name}`
  return `npm install --save-dev ${name}`
}

/** An error naming the missing package, why it is needed and the command that adds it. */
export function missingPeer(name: string, why: string, cause?: unknown): Error {
  return new Error(`${why}, but ${name} is not installed. Add it to your project with:\n\n  ${addCommand(name)}\n`, { cause })
}

/**
 * `require.resolve(specifier)` from this package, then from the working directory (a CLI
 * installed globally or run with npx, Azurite added to the project).
 */
export function resolvePeer(specifier: string, name: string, why: string): string {
  for (const base of [import.meta.url, join(process.cwd(), 'noop.js')]) {
    try {
      return createRequire(base).resolve(specifier)
    } catch {
      // next place
    }
  }
  throw missingPeer(name, why)
}
