/** `valet doctor` at storage: a part PUT with a fresh key, its CORS preflight, and what a page may read of the answer. */
import type { SignedPart } from '@valet/protocol'
import { downloadCorsProblems, downloadRequestHeaders, evaluatePartAnswer, originProblem, preflightProblems, type StorageKind } from './doctor-cors.js'
import type { Downloads } from './doctor-endpoint.js'
import { downloadCorsFix, storageCorsFix, storagePutFix } from './doctor-fixes.js'
import { exchange, storageErrorCode, type Exchange } from './doctor-http.js'
import type { Check } from './doctor-report.js'

const PREFLIGHT_TIMEOUT_MS = 15_000

/** Sends `body` with `key` exactly as the client would; `origin` adds what a page's PUT carries. */
export function putPart(key: SignedPart, body: Uint8Array, timeoutMs: number, origin?: string): Promise<Exchange> {
  return exchange(key.url, { method: key.method, headers: { ...key.headers, ...(origin === undefined ? {} : { origin }) }, body, timeoutMs })
}

export const isSuccess = (answer: Exchange): boolean => answer.status >= 200 && answer.status <= 299

/** Whether storage took the part: a refusal here breaks every upload, browser or not. */
export function putCheck(answer: Exchange, url: string, kind: StorageKind): Check {
  if (isSuccess(answer)) {
    return { id: 'storage-put', status: 'ok', message: `storage accepted a part PUT with the key (${answer.status} in ${Math.round(answer.elapsedMs)} ms)` }
  }
  if (answer.status === 0) {
    return { id: 'storage-put', status: 'fail', message: `no answer from storage at ${new URL(url).host} to the part PUT: ${answer.error ?? 'unknown error'}`, fix: storagePutFix(0, undefined, kind) }
  }
  const code = storageErrorCode(answer)
  return {
    id: 'storage-put',
    status: 'fail',
    message: `storage refused a fresh key: ${answer.status}${code ? ` ${code}` : ''}`,
    fix: storagePutFix(answer.status, code, kind),
  }
}

async function preflight(url: string, origin: string, headers: string[]): Promise<string[]> {
  const answer = await exchange(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': headers.join(',') },
    timeoutMs: PREFLIGHT_TIMEOUT_MS,
  })
  if (answer.status === 0) return [`no answer to the preflight: ${answer.error ?? 'unknown error'}`]
  const problems = preflightProblems({ origin, method: 'PUT', headers }, answer.status, answer.headers)
  const code = storageErrorCode(answer)
  return code && problems.length > 0 ? [`${problems[0]} (${code})`, ...problems.slice(1)] : problems
}

/**
 * The browser's preflight for a part PUT to the key's URL. The headers the key requires must be
 * allowed; `content-type` is asked separately, because @valet/client sends parts without one
 * but many uploaders (a typed File or Blob) do, and a store refuses a preflight wholesale.
 */
export async function storagePreflightCheck(key: SignedPart, origin: string, kind: StorageKind): Promise<Check> {
  const required = [...new Set(Object.keys(key.headers).map((h) => h.toLowerCase()))].sort()
  const problems = await preflight(key.url, origin, required)
  if (problems.length > 0) {
    return {
      id: 'storage-cors-preflight',
      status: 'fail',
      message: `preflight PUT from ${origin} (${required.join(', ')}) refused: ${problems.join('; ')} — browsers cannot send parts`,
      fix: storageCorsFix(kind, origin),
    }
  }
  const withType = [...required, 'content-type']
  const typeProblems = await preflight(key.url, origin, withType)
  if (typeProblems.length > 0) {
    return {
      id: 'storage-cors-preflight',
      status: 'warn',
      message: `preflight PUT from ${origin} passes with ${required.join(', ')} but not with content-type: ${typeProblems.join('; ')} (@valet/client sends none; uploaders of typed Blobs do)`,
      fix: storageCorsFix(kind, origin),
    }
  }
  return { id: 'storage-cors-preflight', status: 'ok', message: `preflight PUT from ${origin} with ${withType.join(', ')} passes` }
}

/** What a page on `origin` could read of storage's answer to the part PUT. */
export function storageCorsAnswerCheck(answer: Exchange, origin: string, kind: StorageKind): Check {
  const verdict = evaluatePartAnswer(answer.headers, origin)
  return { id: 'storage-cors-response', ...verdict, ...(verdict.status === 'ok' ? {} : { fix: storageCorsFix(kind, origin) }) }
}

/**
 * Storage CORS for downloads, a check of its own (`storage-cors-download`): the preflight of a
 * ranged GET from `origin` to the object's URL, and ETag and Content-Range exposed — judged from
 * storage's answer to the part PUT (`put`), the CORS answer at hand: the doctor reads no object.
 * Not checked when the endpoint serves no downloads; a warning when that is not known.
 */
export async function storageDownloadCorsCheck(key: SignedPart, origin: string, kind: StorageKind, put: Exchange | undefined, downloads: Downloads): Promise<Check> {
  const id = 'storage-cors-download'
  if (downloads === 'off') {
    return { id, status: 'ok', message: 'downloads are off on this endpoint (createValet has no canRead): storage CORS for downloads not checked' }
  }
  const headers = downloadRequestHeaders(kind)
  // A browser sends the preflight to the request's URL, query included: on S3-compatible stores
  // that is what makes it an S3 request at all (Swift s3api answers a bare object path 400).
  const answer = await exchange(key.url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': headers.join(',') },
    timeoutMs: PREFLIGHT_TIMEOUT_MS,
  })
  const readable = put !== undefined && originProblem(put.headers, origin) === undefined ? put.headers : undefined
  const problems = downloadCorsProblems(origin, headers, answer, readable)
  const code = answer.status === 0 ? undefined : storageErrorCode(answer)
  if (code && answer.status >= 300) problems[0] = `${problems[0]} (${code})`
  const exposure = readable === undefined ? '; ETag and Content-Range exposure not checked (no readable storage answer)' : ', ETag and Content-Range exposed'
  if (problems.length === 0) {
    return { id, status: 'ok', message: `a page on ${origin} may download: preflight GET with ${headers.join(', ')} passes${exposure}` }
  }
  const unsure = downloads === 'unknown' ? ' (if this endpoint serves downloads: createValet with canRead)' : ''
  return {
    id,
    status: downloads === 'on' ? 'fail' : 'warn',
    message: `browsers cannot download from storage${unsure}: ${problems.join('; ')}`,
    fix: downloadCorsFix(kind, origin),
  }
}
