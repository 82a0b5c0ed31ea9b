/** Arguments of `valet download`. */
import { posix, resolve } from 'node:path'
import { UsageError, integerFlag, parseCommandLine, httpUrlFlag, headerFlags } from './cli-args.js'

export const DOWNLOAD_HELP = `Usage: valet download <keys...> --endpoint URL [options]

Downloads objects by key through a Valet key endpoint (one given canRead), straight from
storage, every byte verified, each to <out>/<last segment of its key>. A file appears only once
it is whole and verified; an existing file of that name is then replaced. Unfinished downloads
resume when the same command runs again with the same state directory.

Options:
  --endpoint URL       key endpoint, e.g. http://127.0.0.1:3000/api/valet (required)
  --out DIR            folder to write the files in, created if missing (default .)
  --concurrency N      range GETs in flight in total, 1-64 (default 4)
  --header "K: V"      header for key endpoint calls (repeatable), e.g. "authorization: Bearer …"
  --state-dir DIR      where resume state is kept (default ~/.valet/downloads)
  --retries N          retries per range and per key endpoint call, 0-100 (default 5)
  --fsync              flush each file to disk before it is renamed into place (survives a power cut)
  --json               one JSON line per file on stdout (progress on stderr if it is a terminal)
  -h, --help           show this help

Two keys that end in the same name would write the same file: that is a usage error naming
both (download them with different --out folders). While a file downloads, <file>.valet-partial
holds its bytes and <file>.valet-lock the run's pid: another run to the same file fails at once
(exit 1, naming that pid); the lock of a killed run is taken over by the next.

Exit status: 0 when every file is complete and verified, 1 when any failed, 2 on usage errors,
130 when interrupted (Ctrl+C pauses: rerun the command to resume).

Example:
  valet download dev/0b6f…/report.pdf --endpoint http://127.0.0.1:3000/api/valet --out ./got`

/** One key and where it goes. */
export interface DownloadTarget {
  key: string
  /** Absolute destination path: `<out>/<basename of key>`. */
  path: string
  /** The destination as the user would write it (relative to the working directory when --out is). */
  display: string
}

export interface DownloadArgs {
  targets: DownloadTarget[]
  endpoint: string
  /** Absolute. */
  out: string
  concurrency: number
  /** Lower-case names. */
  headers: Record<string, string>
  /** Absolute; `undefined`: the downloader's default (~/.valet/downloads). */
  stateDir: string | undefined
  retries: number
  fsync: boolean
  json: boolean
}

const OPTIONS = {
  endpoint: { type: 'string' },
  out: { type: 'string' },
  concurrency: { type: 'string' },
  header: { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  retries: { type: 'string' },
  fsync: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The file name a key downloads to: its last `/` segment. */
export function keyBasename(key: string): string {
  return posix.basename(key.endsWith('/') ? '' : key)
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new UsageError(`a key must be 1 to 1024 characters, got "${key.slice(0, 40)}"`, 'download')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new UsageError(`key ${JSON.stringify(key)} contains a control character`, 'download')
  const name = keyBasename(key)
  if (name === '' || name === '.' || name === '..') {
    throw new UsageError(`key "${key}" does not end in a file name (nothing after its last "/"): give the object's full key`, 'download')
  }
}

/**
 * Parses `valet download`'s arguments; `'help'` when help was asked for. The same key given
 * twice is downloaded once; two keys with the same last segment are refused (they would write
 * one file).
 *
 * @example
 * ```ts
 * parseDownloadArgs(['dev/1/a.bin', '--endpoint', 'http://127.0.0.1:3000/api/valet', '--out', 'got'], process.cwd())
 * ```
 * @throws UsageError naming the bad flag or key.
 */
export function parseDownloadArgs(argv: string[], cwd: string): DownloadArgs | 'help' {
  const { values, positionals } = parseCommandLine('download', argv, OPTIONS, true)
  if (values.help) return 'help'
  if (positionals.length === 0) throw new UsageError('no key given (the object key an upload answered, e.g. dev/0b6f…/report.pdf)', 'download')
  const endpoint = values.endpoint
  if (endpoint === undefined) throw new UsageError('--endpoint URL is required (e.g. http://127.0.0.1:3000/api/valet)', 'download')
  httpUrlFlag(endpoint, 'endpoint', 'download')
  if (values.out === '') throw new UsageError('--out needs a folder', 'download')
  const outGiven = values.out ?? '.'
  const out = resolve(cwd, outGiven)
  const headers = headerFlags(values.header, 'download')
  const targets: DownloadTarget[] = []
  const byName = new Map<string, string>()
  for (const key of new Set(positionals)) {
    checkKey(key)
    const name = keyBasename(key)
    const earlier = byName.get(name)
    if (earlier !== undefined) {
      throw new UsageError(
        `keys "${earlier}" and "${key}" would both be written to ${posix.join(outGiven, name)}: download them in separate runs with different --out folders`,
        'download',
      )
    }
    byName.set(name, key)
    targets.push({ key, path: resolve(out, name), display: outGiven === '.' ? name : posix.join(outGiven, name) })
  }
  return {
    targets,
    endpoint,
    out,
    concurrency: integerFlag(values.concurrency, 'concurrency', 1, 64, 4, 'download'),
    headers,
    stateDir: values['state-dir'] === undefined ? undefined : resolve(cwd, values['state-dir']),
    retries: integerFlag(values.retries, 'retries', 0, 100, 5, 'download'),
    fsync: values.fsync ?? false,
    json: values.json ?? false,
  }
}
