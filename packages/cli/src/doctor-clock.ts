/** Clock skew and key lifetime arithmetic of `valet doctor`, as pure functions. */
import { MIN_PLANNED_PART_SIZE } from '@valet/protocol'
import { formatBytes, formatRate } from './format.js'

/** Skew between key server and storage above which keys visibly lose (or gain) life. */
export const SKEW_LIMIT_MS = 30_000
/** The client's base refresh margin: a key must have this much left when its PUT starts. */
export const BASE_MARGIN_MS = 30_000
/** The server's default `keyTtl`, in seconds. */
export const DEFAULT_KEY_TTL = 900
/** A clock this close to another one counts as "agrees" when telling which clock is off. */
const AGREES_MS = 5_000
/** A `Date` header has whole seconds: a storage lead under this is measurement noise. */
const DATE_RESOLUTION_MS = 1_000

export interface Verdict {
  status: 'ok' | 'warn' | 'fail'
  message: string
  fix?: string
}

/** Remote clock minus local clock, taking the remote reading to be at the exchange's midpoint. */
export function skewAt(remoteTime: number, sentAt: number, receivedAt: number): number {
  return Math.round(remoteTime - (sentAt + receivedAt) / 2)
}

/**
 * The instant an HTTP `Date` header most likely stood for, ms; `undefined` when absent or bad.
 * The header has whole seconds (the true time is up to 1 s later), so the middle of that second.
 */
export function dateHeaderTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const at = Date.parse(value)
  return Number.isFinite(at) ? at + 500 : undefined
}

/** `1234` → `1.2 s`, `42000` → `42 s`, `-1500` → `1.5 s` (callers say ahead or behind). */
export function formatSeconds(ms: number): string {
  const s = Math.abs(ms) / 1000
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`
}

/** `+1.2 s` / `-42 s`: a remote clock relative to this machine's. */
export function signedSeconds(ms: number): string {
  const text = formatSeconds(ms)
  return `${ms < 0 && text !== '0.0 s' ? '-' : '+'}${text}`
}

/**
 * Storage's clock against the key server's, both measured from this machine. Keys are dated by
 * the key server and judged by storage: storage ahead shortens every key, storage behind
 * lengthens them (and S3 refuses a SigV4 key dated more than 15 minutes in its future).
 */
export function clockVerdict(skewKeyServerMs: number, skewStorageMs: number): Verdict {
  const ahead = skewStorageMs - skewKeyServerMs
  const seen = `(from here: key server ${signedSeconds(skewKeyServerMs)}, storage ${signedSeconds(skewStorageMs)})`
  if (Math.abs(ahead) <= SKEW_LIMIT_MS) {
    return { status: 'ok', message: `key server and storage clocks agree within ${formatSeconds(ahead)} ${seen}` }
  }
  const culprit =
    Math.abs(skewStorageMs) <= AGREES_MS ? " — this machine agrees with storage: the key server's clock is off"
    : Math.abs(skewKeyServerMs) <= AGREES_MS ? " — this machine agrees with the key server: storage's clock is off"
    : ''
  const message =
    ahead > 0
      ? `storage's clock is ${formatSeconds(ahead)} ahead of the key server's: every key loses ${formatSeconds(ahead)} of its life ${seen}${culprit}`
      : `storage's clock is ${formatSeconds(ahead)} behind the key server's: keys outlive keyTtl by that much, and S3 refuses keys dated over 15 min in its future ${seen}${culprit}`
  const until = ahead > 0 ? `; until then add ${Math.ceil(ahead / 1000)} s to keyTtl` : ''
  return { status: 'warn', message, fix: `sync the key server's and storage's clocks with NTP (chrony, systemd-timesyncd)${until}` }
}

/** What a key must have in hand when its PUT starts: 3 × part time + 30 s (the client's margin). */
export function requiredLifetimeMs(partTimeMs: number): number {
  return 3 * partTimeMs + BASE_MARGIN_MS
}

/** A `keyTtl` to recommend for `requiredMs`: the default, or more in whole minutes. */
export function suggestedKeyTtl(requiredMs: number): number {
  return Math.max(DEFAULT_KEY_TTL, Math.ceil(requiredMs / 60_000) * 60)
}

/** The largest part that still fits a key of `lifetimeMs` at `rate`, or `undefined` if none Valet plans does. */
export function partSizeThatFits(lifetimeMs: number, rate: number): number | undefined {
  const partTimeMs = (lifetimeMs - BASE_MARGIN_MS) / 3
  const size = Math.floor((partTimeMs / 1000) * rate)
  return size >= MIN_PLANNED_PART_SIZE ? size : undefined
}

export interface LifetimeInput {
  lifetimeMs: number
  /** The server's planned part size for an ordinary file. */
  partSize: number
  /** Measured from this machine; `undefined` when the rate test could not run. */
  rate: number | undefined
  /** Storage clock minus key server clock, when known; leads within a `Date` header's resolution are ignored. */
  storageAheadMs: number | undefined
}

/** Whether keys live long enough for a part: `lifetime − storage's lead ≥ 3 × part time + 30 s`. */
export function lifetimeVerdict({ lifetimeMs, partSize, rate, storageAheadMs }: LifetimeInput): Verdict {
  const partTimeMs = rate === undefined || rate <= 0 ? 0 : (partSize / rate) * 1000
  const requiredMs = requiredLifetimeMs(partTimeMs)
  const ahead = storageAheadMs ?? 0
  const lead = ahead > DATE_RESOLUTION_MS ? ahead : 0
  const effectiveMs = lifetimeMs - lead
  const part =
    rate === undefined
      ? 'upload rate unknown, so only the 30 s margin is checked'
      : `a ${formatBytes(partSize)} part takes ${formatSeconds(partTimeMs)} at ${formatRate(rate)} from here`
  if (effectiveMs >= requiredMs) {
    return { status: 'ok', message: `keys live ${formatSeconds(lifetimeMs)}; ${part}, so ${formatSeconds(requiredMs)} (3 × part time + 30 s) is enough` }
  }
  const life = lead > 0 ? `${formatSeconds(effectiveMs)} (${formatSeconds(lifetimeMs)} minus storage's ${formatSeconds(lead)} lead)` : formatSeconds(lifetimeMs)
  const fits = rate === undefined ? undefined : partSizeThatFits(effectiveMs, rate)
  const smaller = fits === undefined || fits >= partSize ? '' : `, or lower partSize to ${formatBytes(fits)} or less`
  return {
    status: 'warn',
    message: `keys live only ${life}, under the ${formatSeconds(requiredMs)} a key needs in hand (3 × part time + 30 s; ${part}): clients re-sign for nearly every part, and on a slower link keys expire before their PUT starts`,
    fix: `raise keyTtl: createValet({ ..., keyTtl: ${suggestedKeyTtl(requiredMs + lead)} }) (seconds, default ${DEFAULT_KEY_TTL})${smaller}`,
  }
}
