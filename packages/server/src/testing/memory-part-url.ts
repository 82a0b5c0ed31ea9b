/**
 * The part URLs of the in-memory provider: what a real provider signs into a key (upload, part,
 * size, MD5, expiry) carried in plain sight, so a fake storage in front of it (the client's msw
 * fake) can check a PUT the way S3 would and store the part where `listParts` finds it.
 */

export interface MemoryPartKey {
  key: string
  uploadId: string
  partNumber: number
  size: number
  /** Base64 MD5 the PUT's `Content-MD5` must carry. */
  md5: string
  /** ms since the epoch: unit tests use keys shorter than a second. */
  expiresAt: number
}

export function memoryPartUrl(base: string, part: MemoryPartKey): string {
  const query = new URLSearchParams({
    uploadId: part.uploadId,
    partNumber: String(part.partNumber),
    size: String(part.size),
    md5: part.md5,
    expires: String(part.expiresAt),
  })
  return `${base}/${encodeURI(part.key)}?${query}`
}

/** The key a part URL under `base` names, or `undefined` for any other URL. */
export function readMemoryPartUrl(base: string, url: string): MemoryPartKey | undefined {
  const [path = '', search = ''] = url.split('?')
  if (!path.startsWith(`${base}/`)) return undefined
  const query = new URLSearchParams(search)
  const numberOf = (name: string): number => Number(query.get(name) ?? NaN)
  const part = {
    key: decodeURI(path.slice(base.length + 1)),
    uploadId: query.get('uploadId') ?? '',
    partNumber: numberOf('partNumber'),
    size: numberOf('size'),
    md5: query.get('md5') ?? '',
    expiresAt: numberOf('expires'),
  }
  const complete = part.uploadId !== '' && part.md5 !== '' && [part.partNumber, part.size, part.expiresAt].every(Number.isSafeInteger)
  return complete ? part : undefined
}
