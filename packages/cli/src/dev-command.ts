/** `valet dev`: runs the dev stack until SIGINT or SIGTERM. */
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { DEV_HELP, parseDevArgs } from './dev-args.js'
import { startDevServer } from './dev-server.js'

/**
 * Runs `valet dev` and resolves with the exit code once stopped by SIGINT/SIGTERM (0), or at
 * once when it cannot start (1).
 *
 * @example
 * ```ts
 * process.exitCode = await devCommand(['--port', '0'])
 * ```
 */
export async function devCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  const args = parseDevArgs(argv, io.cwd, io.env)
  if (args === 'help') {
    io.stdout.write(`${DEV_HELP}\n`)
    return EXIT.ok
  }
  // Listen before starting: a Ctrl+C during Azurite's start-up must still stop it.
  let stop: (() => void) | undefined
  let signalled = false
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      if (signalled) process.exit(EXIT.failed) // second signal: stop waiting for a clean shutdown
      signalled = true
      resolve()
    }
  })
  process.on('SIGINT', stop!)
  process.on('SIGTERM', stop!)
  try {
    let dev
    try {
      dev = await startDevServer(args)
    } catch (error) {
      io.stderr.write(`valet dev: ${error instanceof Error ? error.message : String(error)}\n`)
      return EXIT.failed
    }
    if (signalled) {
      await dev.close()
      return EXIT.ok
    }
    io.stdout.write(
      [
        'valet dev is running',
        `  page:     ${dev.url}`,
        `  endpoint: ${dev.endpoint}`,
        `  storage:  ${dev.storage}`,
        `  serving:  ${dev.page}`,
        `  try:      pnpm valet upload <file> --endpoint ${dev.endpoint}`,
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    )
    await stopped
    io.stdout.write('valet dev: stopping\n')
    await dev.close()
    return EXIT.ok
  } finally {
    process.removeListener('SIGINT', stop!)
    process.removeListener('SIGTERM', stop!)
  }
}
