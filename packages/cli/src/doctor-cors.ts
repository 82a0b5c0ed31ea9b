/**
 * CORS as a browser applies it (Fetch standard, non-credentialed requests), as pure functions of
 * response headers, so `valet doctor` can say which rule a page's upload would trip over.
 */

/** Response headers with lower-case names. */
export type HeaderMap = Record<string, string>

/** Headers every response exposes to scripts without `Access-Control-Expose-Headers`. */
const SAFELISTED_RESPONSE = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma']

/** `a, B ,c` → `['a', 'b', 'c']`. */
export function headerList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')
}

/** Why `Access-Control-Allow-Origin` does not let `origin` read the response, or `undefined`. */
export function originProblem(headers: HeaderMap, origin: string): string | undefined {
  const allowed = headers['access-control-allow-origin']?.trim()
  if (allowed === undefined || allowed === '') return `no Access-Control-Allow-Origin (expected ${origin} or *)`
  if (allowed === '*' || allowed === origin) return undefined
  // Browsers compare the serialized origin byte for byte: a trailing slash or a list is a mismatch.
  return `Access-Control-Allow-Origin is "${allowed}", not ${origin}`
}

export interface PreflightRequest {
  origin: string
  method: string
  /** Lower-case names sent in `Access-Control-Request-Headers`. */
  headers: string[]
}

/**
 * What would make a browser refuse this preflight answer; empty when it passes.
 *
 * @example
 * ```ts
 * preflightProblems({ origin: 'http://a.test', method: 'PUT', headers: ['content-md5'] }, 200, {
 *   'access-control-allow-origin': '*', 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': 'content-md5',
 * }) // → []
 * ```
 */
export function preflightProblems(request: PreflightRequest, status: number, headers: HeaderMap): string[] {
  // A browser stops at a non-2xx preflight: its headers, if any, no longer matter.
  if (status < 200 || status > 299) return [`the preflight was answered ${status}, not 2xx`]
  const problems: string[] = []
  const origin = originProblem(headers, request.origin)
  if (origin) problems.push(origin)
  const methods = headerList(headers['access-control-allow-methods'])
  // Safelisted methods (GET, HEAD, POST) pass without being listed; the others must be named or `*`.
  const safelisted = ['GET', 'HEAD', 'POST'].includes(request.method.toUpperCase())
  if (!safelisted && !methods.includes('*') && !methods.includes(request.method.toLowerCase())) {
    problems.push(`${request.method} is not in Access-Control-Allow-Methods (${methods.join(', ') || 'none'})`)
  }
  const allowed = headerList(headers['access-control-allow-headers'])
  // `*` covers every header except Authorization, which must always be listed by name.
  const missing = request.headers.filter((h) => !allowed.includes(h) && !(allowed.includes('*') && h !== 'authorization'))
  if (missing.length > 0) problems.push(`Access-Control-Allow-Headers lacks ${missing.join(', ')}`)
  return problems
}

/** Whether a script on the page can read response header `name` (lower case). */
export function isExposed(headers: HeaderMap, name: string): boolean {
  if (SAFELISTED_RESPONSE.includes(name)) return true
  const exposed = headerList(headers['access-control-expose-headers'])
  return exposed.includes('*') || exposed.includes(name)
}

export type StorageKind = 's3' | 'swift' | 'azure' | 'unknown'

/** Which storage signed `url` and answered with `headers` (when known), for provider-specific advice. */
export function storageKind(url: string, headers: HeaderMap = {}): StorageKind {
  if (headers['x-trans-id'] !== undefined || headers['x-openstack-request-id'] !== undefined) return 'swift'
  if (headers['x-ms-request-id'] !== undefined) return 'azure'
  const query = new URL(url).searchParams
  if (query.has('X-Amz-Signature')) return 's3'
  if (query.has('sig') && query.has('sv')) return 'azure'
  return 'unknown'
}

export interface PartAnswerVerdict {
  status: 'ok' | 'warn' | 'fail'
  message: string
}

/**
 * Whether the page can use storage's answer to a part PUT: it must be allowed to read it at all,
 * then to see what `@valet/client` verifies the part by (S3: `ETag`; Azure Put Block, which has
 * no ETag: `Content-MD5` or any `x-ms-*` header as proof of an Azure 2xx).
 */
export function evaluatePartAnswer(headers: HeaderMap, origin: string): PartAnswerVerdict {
  const unreadable = originProblem(headers, origin)
  if (unreadable) return { status: 'fail', message: `the PUT answer has ${unreadable}: the browser hides it and the part fails as a network error` }
  if (headers['x-ms-request-id'] !== undefined) {
    if (isExposed(headers, 'etag')) return { status: 'ok', message: 'the PUT answer is readable and exposes ETag' }
    const proof = ['content-md5', ...Object.keys(headers).filter((h) => h.startsWith('x-ms-'))].find(
      (h) => headers[h] !== undefined && isExposed(headers, h),
    )
    if (proof) {
      return { status: 'warn', message: `ETag is not exposed; Put Block has none, so the client gets by on ${proof}, but Put Block List and others do carry ETag` }
    }
    return { status: 'fail', message: 'neither ETag, Content-MD5 nor any x-ms-* header is exposed: the client cannot tell the part was stored' }
  }
  if (headers['etag'] === undefined) return { status: 'fail', message: 'storage answered without an ETag header' }
  if (!isExposed(headers, 'etag')) {
    return { status: 'fail', message: `ETag is not in Access-Control-Expose-Headers (${headers['access-control-expose-headers'] ?? 'absent'}): the client cannot verify parts or complete` }
  }
  return { status: 'ok', message: 'the PUT answer is readable and exposes ETag' }
}

/**
 * The headers a download's ranged GET carries (docs/protocol.md "Downloads"), which storage's
 * CORS must allow: S3 and S3-compatibles `Range` and `If-Match`; Azure `x-ms-range`, `If-Match`
 * and `x-ms-version`.
 */
export function downloadRequestHeaders(kind: StorageKind): string[] {
  return kind === 'azure' ? ['if-match', 'x-ms-range', 'x-ms-version'] : ['if-match', 'range']
}

/** Answer headers a page's downloader must read: the object version and the range it got. */
export const DOWNLOAD_EXPOSED_HEADERS = ['etag', 'content-range'] as const

/**
 * What would stop a page on `origin` from downloading: its preflight for the ranged GET
 * (`preflight` undefined: no answer, `error` says why) and, from a storage answer that carries
 * the bucket's CORS (`answer`; undefined when none could be read), the headers it must expose.
 * Empty when nothing does.
 *
 * @example
 * ```ts
 * downloadCorsProblems('http://a.test', ['if-match', 'range'], { status: 200, headers: { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' } },
 *   { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag' }) // → ['Content-Range is not exposed …']
 * ```
 */
export function downloadCorsProblems(
  origin: string,
  headers: string[],
  preflight: { status: number; headers: HeaderMap; error?: string },
  answer: HeaderMap | undefined,
): string[] {
  const problems =
    preflight.status === 0
      ? [`no answer to the preflight GET: ${preflight.error ?? 'unknown error'}`]
      : preflightProblems({ origin, method: 'GET', headers }, preflight.status, preflight.headers).map((p) => `preflight GET (${headers.join(', ')}): ${p}`)
  if (answer !== undefined) {
    const hidden = DOWNLOAD_EXPOSED_HEADERS.filter((h) => !isExposed(answer, h))
    if (hidden.length > 0) {
      const names = hidden.map((h) => (h === 'etag' ? 'ETag' : 'Content-Range'))
      problems.push(`${names.join(' and ')} ${hidden.length === 1 ? 'is' : 'are'} not in Access-Control-Expose-Headers (${answer['access-control-expose-headers'] ?? 'absent'})`)
    }
  }
  return problems
}
