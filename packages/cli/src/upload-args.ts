/** Arguments of `valet upload`. */
import { resolve } from 'node:path'
import { UsageError, integerFlag, parseCommandLine, httpUrlFlag, headerFlags } from './cli-args.js'
import { parseSize } from './parse-size.js'

export const UPLOAD_HELP = `Usage: valet upload <paths...> --endpoint URL [options]

Uploads files, and directories recursively, through a Valet key endpoint straight to storage.
Unfinished uploads resume when the same command runs again with the same state directory.

Options:
  --endpoint URL       key endpoint, e.g. http://127.0.0.1:3000/api/valet (required)
  --concurrency N      part uploads in flight in total, 1-64 (default 4)
  --part-size SIZE     preferred part size, e.g. 16MiB, 8MB, 1048576 (default: the server's)
  --header "K: V"      header for key endpoint calls (repeatable), e.g. "authorization: Bearer …"
  --state-dir DIR      where resume state is kept (default .valet/state)
  --retries N          retries per part and per key endpoint call, 0-100 (default 5)
  --json               one JSON line per file on stdout (progress on stderr if it is a terminal)
  -h, --help           show this help

Exit status: 0 when every file is complete and verified, 1 when any failed, 2 on usage errors,
130 when interrupted (Ctrl+C pauses: rerun the command to resume).

Example:
  valet upload ./photos big.iso --endpoint http://127.0.0.1:3000/api/valet --part-size 16MiB`

export interface UploadArgs {
  paths: string[]
  endpoint: string
  concurrency: number
  partSize: number | undefined
  headers: Record<string, string>
  /** Absolute. */
  stateDir: string
  retries: number
  json: boolean
}

const OPTIONS = {
  endpoint: { type: 'string' },
  concurrency: { type: 'string' },
  'part-size': { type: 'string' },
  header: { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * Parses `valet upload`'s arguments; `'help'` when help was asked for.
 *
 * @example
 * ```ts
 * parseUploadArgs(['a.bin', '--endpoint', 'http://127.0.0.1:3000/api/valet'], process.cwd())
 * ```
 * @throws UsageError naming the bad flag.
 */
export function parseUploadArgs(argv: string[], cwd: string): UploadArgs | 'help' {
  const { values, positionals } = parseCommandLine('upload', argv, OPTIONS, true)
  if (values.help) return 'help'
  if (positionals.length === 0) throw new UsageError('no file or directory given', 'upload')
  const endpoint = values.endpoint
  if (endpoint === undefined) throw new UsageError('--endpoint URL is required (e.g. http://127.0.0.1:3000/api/valet)', 'upload')
  httpUrlFlag(endpoint, 'endpoint', 'upload')
  let partSize: number | undefined
  if (values['part-size'] !== undefined) {
    try {
      partSize = parseSize(values['part-size'])
    } catch (error) {
      throw new UsageError(`--part-size: ${(error as Error).message}`, 'upload')
    }
  }
  const headers = headerFlags(values.header, 'upload')
  return {
    paths: positionals,
    endpoint,
    concurrency: integerFlag(values.concurrency, 'concurrency', 1, 64, 4, 'upload'),
    partSize,
    headers,
    stateDir: resolve(cwd, values['state-dir'] ?? '.valet/state'),
    retries: integerFlag(values.retries, 'retries', 0, 100, 5, 'upload'),
    json: values.json ?? false,
  }
}
