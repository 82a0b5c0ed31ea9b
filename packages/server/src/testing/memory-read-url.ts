/**
 * The read URLs of the in-memory provider: what a real provider signs into a read key (object,
 * range, version, expiry) carried in plain sight, so a fake storage in front of it (the client's
 * msw fake) can serve a ranged GET the way S3 would: only that range, 412 once the object's
 * ETag changed, 403 after expiry.
 */

export interface MemoryReadKey {
  key: string
  /** The object version the key reads (`If-Match`). */
  etag: string
  start: number
  /** Exclusive. */
  end: number
  /** ms since the epoch: unit tests use keys shorter than a second. */
  expiresAt: number
}

export function memoryReadUrl(base: string, read: MemoryReadKey): string {
  const query = new URLSearchParams({ read: '1', etag: read.etag, start: String(read.start), end: String(read.end), expires: String(read.expiresAt) })
  return `${base}/${encodeURI(read.key)}?${query}`
}

/** The read key a URL under `base` names, or `undefined` for any other URL (part URLs included). */
export function readMemoryReadUrl(base: string, url: string): MemoryReadKey | undefined {
  const [path = '', search = ''] = url.split('?')
  if (!path.startsWith(`${base}/`)) return undefined
  const query = new URLSearchParams(search)
  if (query.get('read') !== '1') return undefined
  const numberOf = (name: string): number => Number(query.get(name) ?? NaN)
  const read = { key: decodeURI(path.slice(base.length + 1)), etag: query.get('etag') ?? '', start: numberOf('start'), end: numberOf('end'), expiresAt: numberOf('expires') }
  const complete = read.etag !== '' && [read.start, read.end, read.expiresAt].every(Number.isSafeInteger) && read.start < read.end
  return complete ? read : undefined
}
