/** Arguments of `valet doctor`. */
import { UsageError, parseCommandLine, httpUrlFlag, headerFlags } from './cli-args.js'

export const DOCTOR_HELP = `Usage: valet doctor --endpoint URL [options]

Checks a deployment the way a browser upload uses it: the key endpoint answers, storage takes a
part PUT from the page's origin (CORS allows it and exposes ETag), clocks agree, and keys live
long enough for a part; and, when the endpoint serves downloads (canRead), that storage's CORS
lets a page GET ranges (Range/If-Match allowed, ETag and Content-Range exposed). Two tiny test
uploads are made (1 byte, 5 MiB + 1 byte), then aborted.

Options:
  --endpoint URL       key endpoint, e.g. https://app.example.com/api/valet (required)
  --origin URL         the page's origin (default: the endpoint's origin)
  --header "K: V"      header for key endpoint calls (repeatable), e.g. "authorization: Bearer …"
  --json               one JSON object on stdout: { ok, checks, figures }
  -h, --help           show this help

Exit status: 0 when no check fails (warnings allowed), 1 when any fails, 2 on usage errors.

Example:
  valet doctor --endpoint https://api.example.com/api/valet --origin https://app.example.com`

export interface DoctorArgs {
  endpoint: string
  /** Scheme, host and port only, e.g. `http://localhost:5173`. */
  origin: string
  /** Lower-case names. */
  headers: Record<string, string>
  json: boolean
}

const OPTIONS = {
  endpoint: { type: 'string' },
  origin: { type: 'string' },
  header: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * Parses `valet doctor`'s arguments; `'help'` when help was asked for.
 *
 * @example
 * ```ts
 * parseDoctorArgs(['--endpoint', 'http://127.0.0.1:3000/api/valet', '--origin', 'http://localhost:5173'])
 * ```
 * @throws UsageError naming the bad flag.
 */
export function parseDoctorArgs(argv: string[]): DoctorArgs | 'help' {
  const { values } = parseCommandLine('doctor', argv, OPTIONS, false)
  if (values.help) return 'help'
  const endpoint = values.endpoint
  if (endpoint === undefined) throw new UsageError('--endpoint URL is required (e.g. http://127.0.0.1:3000/api/valet)', 'doctor')
  const endpointUrl = httpUrlFlag(endpoint, 'endpoint', 'doctor')
  const origin = values.origin === undefined ? endpointUrl.origin : httpUrlFlag(values.origin, 'origin', 'doctor').origin
  const headers = headerFlags(values.header, 'doctor')
  // A trailing slash would make `${endpoint}/uploads` a different route on strict servers.
  return { endpoint: endpoint.replace(/\/+$/, ''), origin, headers, json: values.json ?? false }
}
