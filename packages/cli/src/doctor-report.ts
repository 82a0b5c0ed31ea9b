/** What `valet doctor` found, and how it is printed: a checklist for people, one object for `--json`. */
import type { RenderMode } from './progress-renderer.js'
import { formatRate } from './format.js'
import { signedSeconds } from './doctor-clock.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface Check {
  /** Stable, e.g. `storage-cors-preflight`. */
  id: string
  status: CheckStatus
  message: string
  /** What to change, when the status is not ok. May span lines. */
  fix?: string
}

/** Measurements, `null` when the step that measures them could not run. */
export interface Figures {
  /** `expiresAt − serverTime` of a fresh key. */
  keyLifetimeSeconds: number | null
  /** Key server clock minus this machine's (positive: the key server is ahead). */
  skewKeyServerMs: number | null
  /** Storage clock (its `Date` header) minus this machine's. */
  skewStorageMs: number | null
  /** One part PUT of about 5 MiB, timed from this machine. */
  uploadRateBytesPerSecond: number | null
  /** The server's planned part size for an ordinary file. */
  partSizeBytes: number | null
}

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  ok: boolean
  endpoint: string
  origin: string
  checks: Check[]
  figures: Figures
}

export function emptyFigures(): Figures {
  return { keyLifetimeSeconds: null, skewKeyServerMs: null, skewStorageMs: null, uploadRateBytesPerSecond: null, partSizeBytes: null }
}

/** The report as `--json` prints it: one line. */
export function reportJson(report: DoctorReport): string {
  return JSON.stringify(report)
}

const MARKS: Record<RenderMode, Record<CheckStatus, string>> = {
  tty: { ok: '\x1b[32m✔\x1b[0m', warn: '\x1b[33m!\x1b[0m', fail: '\x1b[31m✖\x1b[0m' },
  // Logs and CI: ASCII that greps well.
  plain: { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' },
  silent: { ok: '', warn: '', fail: '' },
}

function figuresLine(f: Figures): string | undefined {
  const parts: string[] = []
  if (f.keyLifetimeSeconds !== null) parts.push(`key lifetime ${f.keyLifetimeSeconds} s`)
  if (f.skewKeyServerMs !== null) parts.push(`key server clock ${signedSeconds(f.skewKeyServerMs)}`)
  if (f.skewStorageMs !== null) parts.push(`storage clock ${signedSeconds(f.skewStorageMs)}`)
  if (f.uploadRateBytesPerSecond !== null) parts.push(`upload rate ${formatRate(f.uploadRateBytesPerSecond)}`)
  return parts.length === 0 ? undefined : `figures: ${parts.join(', ')} (clocks relative to this machine)`
}

/**
 * The checklist: one line per check, a `fix:` block under each failure and warning, then the
 * figures and a one-line verdict.
 *
 * @example
 * ```ts
 * process.stdout.write(renderReport(report, 'plain'))
 * // [ok]   endpoint: POST /uploads answered 201 in 12 ms ...
 * ```
 */
export function renderReport(report: DoctorReport, mode: RenderMode): string {
  const lines = [`valet doctor: ${report.endpoint} (page origin ${report.origin})`]
  const printed = new Map<string, string>()
  for (const check of report.checks) {
    lines.push(`${MARKS[mode][check.status]} ${check.id}: ${check.message}`)
    if (check.fix === undefined || check.status === 'ok') continue
    // One CORS rule fixes several checks: print its snippet once.
    const earlier = printed.get(check.fix)
    if (earlier !== undefined) {
      lines.push(`    fix: as for ${earlier} above`)
      continue
    }
    printed.set(check.fix, check.id)
    const [first, ...rest] = check.fix.split('\n')
    lines.push(`    fix: ${first}`, ...rest.map((l) => `         ${l}`))
  }
  const figures = figuresLine(report.figures)
  if (figures) lines.push('', figures)
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  const tally = `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${report.checks.length - failed - warned} ok`
  lines.push(failed > 0 ? `Not ready for browser uploads: ${tally}.` : `Ready for browser uploads: ${tally}.`)
  return `${lines.join('\n')}\n`
}
