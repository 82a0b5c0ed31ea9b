/** Arguments of `valet dev`. */
import { resolve } from 'node:path'
import { UsageError, integerFlag, parseCommandLine } from './cli-args.js'

export const DEV_HELP = `Usage: valet dev [options]

Starts a local storage (Azurite, data under --dir), the Valet key endpoint at /api/valet and the
example page at /, on 127.0.0.1. Ctrl+C stops everything.

Options:
  --port N             HTTP port, 0 for a free one (default 3000)
  --host ADDR          address to listen on (default 127.0.0.1); Azurite listens there too
                       unless it is a loopback address (then 127.0.0.1)
  --storage-port N     Azurite's port (default: a free one). Fix it when the page runs
                       elsewhere (a devcontainer, docker -p N:N, an SSH tunnel): forward both
                       --port and this port, since part URLs name http://127.0.0.1:N
  --dir DIR            data directory: Azurite's data and the token secret (default .valet)
  --static DIR         serve this folder at / instead of the example page
  --cors-origin URL    also let pages on this origin (e.g. http://localhost:5173) call the
                       key endpoint; repeatable. Its own page needs none
  --storage KIND       azurite (default) or s3
  --s3-endpoint URL    S3 API endpoint, e.g. http://127.0.0.1:9000 (path-style); default AWS
  --s3-bucket NAME     bucket (required with --storage s3)
  --s3-region REGION   region (default us-east-1)
  --s3-access-key KEY  access key id (default $AWS_ACCESS_KEY_ID)
  --s3-secret-key KEY  secret access key (default $AWS_SECRET_ACCESS_KEY)
  -h, --help           show this help

Every request to the key endpoint is authorized as the principal "dev", so it answers only its
own page and the --cors-origin pages, and only requests addressed to localhost, an IP address
or --host (no DNS rebinding): do not expose it beyond your machine.`

export type DevStorage =
  | { kind: 'azurite'; /** `undefined`: a free port. */ port?: number }
  | { kind: 's3'; endpoint: string | undefined; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }

export interface DevArgs {
  port: number
  host: string
  /** Absolute. */
  dir: string
  /** Absolute; `undefined` serves the example page. */
  staticDir: string | undefined
  /** Origins besides the page's own allowed to call the key endpoint from a browser. */
  corsOrigins: string[]
  storage: DevStorage
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  dir: { type: 'string' },
  static: { type: 'string' },
  'cors-origin': { type: 'string', multiple: true },
  storage: { type: 'string' },
  'storage-port': { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-bucket': { type: 'string' },
  's3-region': { type: 'string' },
  's3-access-key': { type: 'string' },
  's3-secret-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** A `--cors-origin` value, exactly as browsers send an Origin: `scheme://host[:port]`. */
function corsOrigin(value: string): string {
  let origin: string | undefined
  try {
    origin = new URL(value).origin
  } catch {
    origin = undefined
  }
  if (origin === undefined || origin === 'null' || value.includes('*') || origin !== value.replace(/\/$/, '')) {
    throw new UsageError(`--cors-origin must be an origin such as http://localhost:5173 (no path, no wildcard), got "${value}"`, 'dev')
  }
  return origin
}

/**
 * Parses `valet dev`'s arguments; `'help'` when help was asked for.
 *
 * @example
 * ```ts
 * parseDevArgs(['--port', '0', '--dir', '/tmp/valet'], process.cwd(), process.env)
 * ```
 * @throws UsageError naming the bad flag.
 */
export function parseDevArgs(argv: string[], cwd: string, env: NodeJS.ProcessEnv): DevArgs | 'help' {
  const { values } = parseCommandLine('dev', argv, OPTIONS, false)
  if (values.help) return 'help'
  const kind = values.storage ?? 'azurite'
  if (kind !== 'azurite' && kind !== 's3') throw new UsageError(`--storage must be azurite or s3, got "${kind}"`, 'dev')
  const s3Flags = Object.keys(values).filter((k) => k.startsWith('s3-'))
  let storage: DevStorage = { kind: 'azurite' }
  if (kind === 'azurite' && s3Flags.length > 0) {
    throw new UsageError(`--${s3Flags[0]} needs --storage s3`, 'dev')
  }
  if (kind === 'azurite' && values['storage-port'] !== undefined) {
    storage = { kind: 'azurite', port: integerFlag(values['storage-port'], 'storage-port', 1, 65_535, 0, 'dev') }
  }
  if (kind === 's3' && values['storage-port'] !== undefined) {
    throw new UsageError('--storage-port is for Azurite; with --storage s3 the part URLs name --s3-endpoint', 'dev')
  }
  if (kind === 's3') {
    const bucket = values['s3-bucket']
    const accessKeyId = values['s3-access-key'] ?? env.AWS_ACCESS_KEY_ID
    const secretAccessKey = values['s3-secret-key'] ?? env.AWS_SECRET_ACCESS_KEY
    if (!bucket) throw new UsageError('--storage s3 needs --s3-bucket', 'dev')
    if (!accessKeyId || !secretAccessKey) {
      throw new UsageError('--storage s3 needs --s3-access-key and --s3-secret-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)', 'dev')
    }
    storage = { kind: 's3', endpoint: values['s3-endpoint'], bucket, region: values['s3-region'] ?? 'us-east-1', accessKeyId, secretAccessKey }
  }
  const host = values.host ?? '127.0.0.1'
  if (host.trim() === '') throw new UsageError('--host must not be empty', 'dev')
  return {
    port: integerFlag(values.port, 'port', 0, 65_535, 3000, 'dev'),
    host,
    dir: resolve(cwd, values.dir ?? '.valet'),
    staticDir: values.static === undefined ? undefined : resolve(cwd, values.static),
    corsOrigins: (values['cors-origin'] ?? []).map(corsOrigin),
    storage,
  }
}
