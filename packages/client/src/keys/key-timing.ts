/**
 * When a valet key may still start a PUT, as pure functions of the clock.
 *
 * Storage checks a key's expiry when the request *arrives*; a body still streaming after expiry
 * is accepted. So a key must be valid, with a margin, when its PUT starts, and no timeout is
 * ever derived from a key's lifetime.
 */
import { MAX_SIGN_BATCH, type SignedPart } from '@valet/protocol'

/** A valet key in local time. */
export interface ValetKey {
  partNumber: number
  url: string
  headers: Record<string, string>
  /** Base64 MD5 the key was signed for. */
  md5: string
  /** Local ms when storage stops accepting it, pulled in by the skew estimate's uncertainty. */
  expiresAt: number
  /** ms between the server signing the key and its expiry (skew-free: both server times). */
  lifetime: number
}

/** How a sign call went on the local clock, to correct for clock skew. */
export interface SignTiming {
  /** Local ms when the request was sent and when the response arrived. */
  sentAt: number
  receivedAt: number
  /** The response's `serverTime`, ms. */
  serverTime: number
}

/** Server clock minus local clock, taking the server's reading to be at the request's midpoint. */
export function clockSkew(t: SignTiming): number {
  return t.serverTime - (t.sentAt + t.receivedAt) / 2
}

/** Converts a signed part to local time. The skew estimate is off by at most half the round trip: assume the worse half. */
export function toLocalKey(part: SignedPart, md5: string, t: SignTiming): ValetKey {
  const serverExpiry = Date.parse(part.expiresAt)
  const uncertainty = Math.max(0, t.receivedAt - t.sentAt) / 2
  return {
    partNumber: part.partNumber,
    url: part.url,
    headers: part.headers,
    md5,
    expiresAt: serverExpiry - clockSkew(t) - uncertainty,
    lifetime: Math.max(0, serverExpiry - t.serverTime),
  }
}

/** The design's margin before a key counts as expiring. */
export const BASE_MARGIN_MS = 30_000

/**
 * Time a cached key must have left for a PUT to start on it:
 * `min(max(30 s, 3 × recent part time), lifetime / 2)`.
 *
 * - `30 s` absorbs clock drift since the skew was measured, queueing in the OS and proxies,
 *   and connection setup; `3 × part time` covers proxies that check the key only after reading
 *   the body (and slow links where one part takes minutes).
 * - Capping at half the lifetime is what makes short keys work at all: with a 4 s key the
 *   margin is 2 s, so a fresh key serves PUTs for 2 s and none starts with less than 2 s left.
 */
export function refreshMargin(lifetime: number, partTime: number): number {
  return Math.min(Math.max(BASE_MARGIN_MS, 3 * partTime), lifetime / 2)
}

/**
 * The least time a key *just received* for the part that asked for it may have left: 1 s, or a
 * quarter of very short lifetimes. Lower than the margin so a slow sign round trip doesn't turn
 * into an endless loop of fresh keys that are already "too old".
 */
export function minStartLeft(lifetime: number): number {
  return Math.min(1000, lifetime / 4)
}

export function timeLeft(key: ValetKey, now: number): number {
  return key.expiresAt - now
}

/** A key from the cache may start a PUT now. */
export function isUsable(key: ValetKey, now: number, partTime: number): boolean {
  return timeLeft(key, now) > refreshMargin(key.lifetime, partTime)
}

/** A key fresh from the sign call may start a PUT now. */
export function isFreshUsable(key: ValetKey, now: number): boolean {
  return timeLeft(key, now) > minStartLeft(key.lifetime)
}

/** The most parts signed in one call: enough to keep every worker fed between calls. */
export function maxSignWindow(concurrency: number): number {
  return Math.min(MAX_SIGN_BATCH, Math.max(2 * concurrency, 8))
}

/**
 * How many parts to sign in one call. Keys for parts that won't start before their key becomes
 * unusable are wasted, so once part times and key lifetimes are known the window shrinks to
 * the parts `concurrency` workers will start within a key's usable time.
 */
export function signWindow(concurrency: number, lifetime?: number, partTime?: number): number {
  const most = maxSignWindow(concurrency)
  if (lifetime === undefined || partTime === undefined || partTime <= 0) return most
  const usable = lifetime - refreshMargin(lifetime, partTime)
  const starts = 1 + Math.floor((concurrency * usable) / partTime)
  return Math.max(1, Math.min(most, starts))
}
