// Starts a real Azurite blob service on 127.0.0.1 for the tests: the CLI's launcher (the one
// `valet dev` runs, packages/cli/src/azurite.ts), plus what tests want on top of it: a fresh temp
// dir removed on stop, a default container, and the start-up time.
//
//   import { startAzurite } from './scripts/azurite/start.mjs'
//   const azurite = await startAzurite()            // fresh temp dir, free port, CORS on
//   ... azure({ accountName, accountKey, container, endpoint }) ...
//   await azurite.stop()
//
// CLI: `node scripts/azurite/start.mjs [--dir DIR] [--port P] [--container NAME] [--no-cors]`
// prints the connection JSON and runs until SIGINT/SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

// Under vitest the launcher's TypeScript source runs (tests run against sources); plain node runs
// the CLI's build, which `pnpm test` and `pnpm valet` make first.
const launcher = process.env.VITEST ? '../../packages/cli/src/azurite.ts' : '../../packages/cli/dist/index.js'
const cli = await import(launcher).catch((cause) => {
  throw new Error(`cannot load Azurite's launcher (${launcher}): run \`pnpm run build\` first`, { cause })
})

export const AZURITE_ACCOUNT_NAME = cli.AZURITE_ACCOUNT_NAME
export const AZURITE_ACCOUNT_KEY = cli.AZURITE_ACCOUNT_KEY
export const DEFAULT_CONTAINER = 'valet-test'

/**
 * Starts Azurite's blob service on 127.0.0.1, creates a container and (by default) opens CORS so a
 * browser page on any origin can PUT parts and read ETag / Content-MD5.
 *
 * @param {{ dir?: string, port?: number, container?: string, cors?: boolean }} [options]
 *   `dir`: data directory, kept on stop (default: a fresh temp dir, removed on stop);
 *   `port`: default a free port; `container`: default `valet-test`; `cors`: default true.
 * @returns {Promise<import('./start.d.mts').AzuriteServer>}
 *   `startupMs`: spawn to first answer; `stop()`: SIGTERM, SIGKILL after 3 s, removes a temp dir.
 * @throws Error with Azurite's last output if it exits or does not answer within 30 s.
 */
export async function startAzurite({ dir, port, container = DEFAULT_CONTAINER, cors = true } = {}) {
  const ownsDir = dir === undefined
  const location = ownsDir ? await mkdtemp(join(tmpdir(), 'valet-azurite-')) : resolve(dir)
  const started = Date.now()
  let azurite
  try {
    azurite = await cli.startAzurite({ dir: location, port, container, cors })
  } catch (error) {
    if (ownsDir) await rm(location, { recursive: true, force: true })
    throw error
  }
  const startupMs = Date.now() - started
  const stop = async () => {
    await azurite.stop()
    if (ownsDir) await rm(location, { recursive: true, force: true })
  }
  const { endpoint, accountName, accountKey, port: bound } = azurite
  return { endpoint, accountName, accountKey, container, dir: location, port: bound, startupMs, stop }
}

async function main() {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      container: { type: 'string' },
      'no-cors': { type: 'boolean' },
    },
  })
  const azurite = await startAzurite({
    dir: values.dir,
    port: values.port === undefined ? undefined : Number(values.port),
    container: values.container,
    cors: !values['no-cors'],
  })
  const { stop, ...info } = azurite
  process.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
  const shutdown = () => {
    stop().then(() => process.exit(0), (error) => {
      console.error(error)
      process.exit(1)
    })
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
