/** Command dispatch, top-level help, and the mapping of errors to exit codes. */
import { UsageError } from './cli-args.js'
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { cliVersion } from './package-root.js'

export const MAIN_HELP = `Usage: valet <command> [options]

Commands:
  dev       local storage (Azurite) + key endpoint + example page on 127.0.0.1
  upload    upload files and directories through a key endpoint, resumably
  download  download objects by key through a key endpoint, verified and resumably
  doctor    check a deployment for browser uploads: CORS, clock skew, key lifetime

Options:
  -h, --help      show this help (valet <command> --help for a command's options)
  -v, --version   print the version

Examples:
  valet dev --port 3000
  valet upload ./photos --endpoint http://127.0.0.1:3000/api/valet
  valet download dev/0b6f…/report.pdf --endpoint http://127.0.0.1:3000/api/valet --out ./got`

type Command = (argv: string[], io: CliIo) => Promise<number>

/**
 * Drops a `--` before the command and right after it: `pnpm start -- --port 4000` and
 * `npm run valet -- upload …` hand it through (pnpm 12 passes it on to the script), and nobody
 * means "end of options" there. A `--` later on keeps its meaning.
 */
export function withoutRunnerDashes(argv: string[]): string[] {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv]
  if (args[1] === '--' && args[0] !== undefined && !args[0].startsWith('-')) args.splice(1, 1)
  return args
}

// Loaded on demand: `valet upload` need not load the Azure SDK and the key server, nor `--help` either.
const COMMANDS: Record<string, () => Promise<Command>> = {
  dev: () => import('./dev-command.js').then((m) => m.devCommand),
  upload: () => import('./upload-command.js').then((m) => m.uploadCommand),
  download: () => import('./download-command.js').then((m) => (argv: string[], io: CliIo) => m.downloadCommand(argv, io)),
  doctor: () => import('./doctor-command.js').then((m) => m.doctorCommand),
}

/**
 * Runs the `valet` command line and resolves with its exit code; never throws.
 *
 * @example
 * ```ts
 * import { main } from '@valet/cli'
 * process.exitCode = await main(['upload', 'a.bin', '--endpoint', 'http://127.0.0.1:3000/api/valet'])
 * ```
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = withoutRunnerDashes(argv)
  try {
    if (first === undefined || first === '-h' || first === '--help') {
      io.stdout.write(`${MAIN_HELP}\n`)
      return first === undefined ? EXIT.usage : EXIT.ok
    }
    if (first === '-v' || first === '--version') {
      io.stdout.write(`${cliVersion()}\n`)
      return EXIT.ok
    }
    if (first === 'help') {
      const topic = rest[0]
      const load = topic === undefined ? undefined : COMMANDS[topic]
      if (load) return await (await load())(['--help'], io)
      io.stdout.write(`${MAIN_HELP}\n`)
      return topic === undefined ? EXIT.ok : EXIT.usage
    }
    const load = COMMANDS[first]
    if (!load) {
      throw new UsageError(first.startsWith('-') ? `unknown option ${first}` : `unknown command "${first}"`)
    }
    return await (await load())(rest, io)
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `valet ${error.command} --help` : 'valet --help'
      io.stderr.write(`valet${error.command ? ` ${error.command}` : ''}: ${error.message}\nRun \`${help}\` for usage.\n`)
      return EXIT.usage
    }
    io.stderr.write(`valet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT.failed
  }
}
