/** `valet doctor`'s calls to the key endpoint: test uploads, keys, abort, and the endpoint's own CORS. */
import {
  TOKEN_HEADER,
  parseCreateUploadResponse,
  parseSignPartsResponse,
  type CreateUploadResponse,
  type PartToSign,
  type SignedPart,
} from '@valet/protocol'
import type { DoctorArgs } from './doctor-args.js'
import { preflightProblems, originProblem } from './doctor-cors.js'
import { endpointCorsFix, endpointFix } from './doctor-fixes.js'
import { exchange, valetError, type Exchange } from './doctor-http.js'
import type { Check, CheckStatus } from './doctor-report.js'

const ENDPOINT_TIMEOUT_MS = 15_000
/** Headers a page cannot set, so they never appear in `Access-Control-Request-Headers`. */
const FORBIDDEN = new Set(['cookie', 'host', 'origin', 'referer', 'user-agent', 'content-length'])

export interface TestFile {
  name: string
  size: number
  type: string
  partSize?: number
}

/** A key endpoint call's outcome: the parsed answer, or a failed check saying why. */
export type Outcome<T> = { ok: true; value: T; answer: Exchange } | { ok: false; check: Check; answer: Exchange }

function headersFor(args: DoctorArgs, extra: Record<string, string> = {}): Record<string, string> {
  // Browsers send Origin on every POST and every cross-origin call: the endpoint sees what a page sends.
  return { origin: args.origin, ...args.headers, ...extra }
}

function failure(id: string, what: string, answer: Exchange, endpoint: string): Check {
  const error = valetError(answer)
  const said = answer.status === 0 ? `no answer: ${answer.error ?? 'unknown error'}` : `${answer.status}${error ? ` ${error.code}: ${error.message}` : ''}`
  return { id, status: 'fail', message: `${what} failed (${said})`, fix: endpointFix(answer.status, error?.code, endpoint) }
}

function parsed<T>(id: string, what: string, answer: Exchange, expected: number, parse: (body: unknown) => T, endpoint: string): Outcome<T> {
  if (answer.status !== expected) return { ok: false, check: failure(id, what, answer, endpoint), answer }
  try {
    return { ok: true, value: parse(JSON.parse(answer.body)), answer }
  } catch (error) {
    const message = `${what} answered ${answer.status} with a body that is not a Valet answer: ${(error as Error).message}`
    return { ok: false, check: { id, status: 'fail', message, fix: 'make sure --endpoint reaches valet.fetch and nothing (a proxy, a framework body parser) rewrites its answers' }, answer }
  }
}

/** `POST /uploads` for a test file. */
export async function createTestUpload(args: DoctorArgs, file: TestFile): Promise<Outcome<CreateUploadResponse>> {
  const answer = await exchange(`${args.endpoint}/uploads`, {
    method: 'POST',
    headers: headersFor(args, { 'content-type': 'application/json' }),
    body: JSON.stringify(file),
    timeoutMs: ENDPOINT_TIMEOUT_MS,
  })
  return parsed('endpoint', 'POST /uploads', answer, 201, parseCreateUploadResponse, args.endpoint)
}

/** `POST /uploads/:id/parts` for one part; the key and the server's clock reading. */
export async function signTestPart(args: DoctorArgs, upload: CreateUploadResponse, part: PartToSign): Promise<Outcome<{ key: SignedPart; serverTime: number }>> {
  const answer = await exchange(`${args.endpoint}/uploads/${encodeURIComponent(upload.uploadId)}/parts`, {
    method: 'POST',
    headers: headersFor(args, { 'content-type': 'application/json' }),
    body: JSON.stringify({ token: upload.token, parts: [part] }),
    timeoutMs: ENDPOINT_TIMEOUT_MS,
  })
  const parse = (body: unknown) => {
    const response = parseSignPartsResponse(body)
    const key = response.parts.find((p) => p.partNumber === part.partNumber)
    if (!key) throw new Error(`no key for part ${part.partNumber}`)
    return { key, serverTime: Date.parse(response.serverTime) }
  }
  return parsed('sign', 'POST /uploads/:id/parts', answer, 200, parse, args.endpoint)
}

/** `DELETE /uploads/:id`: aborts the test upload in storage. */
export function abortTestUpload(args: DoctorArgs, upload: CreateUploadResponse): Promise<Exchange> {
  return exchange(`${args.endpoint}/uploads/${encodeURIComponent(upload.uploadId)}`, {
    method: 'DELETE',
    headers: headersFor(args, { [TOKEN_HEADER]: upload.token }),
    timeoutMs: ENDPOINT_TIMEOUT_MS,
  })
}

/**
 * The key endpoint seen from a page on another origin: preflights for what the client sends
 * (POST with JSON and the app's headers; GET and DELETE with `valet-token`, for resume and
 * cancel), and Access-Control-Allow-Origin on a real answer (`created`, sent with Origin).
 */
export async function endpointCorsCheck(args: DoctorArgs, created: Exchange): Promise<Check> {
  const own = Object.keys(args.headers).filter((h) => !FORBIDDEN.has(h))
  const unique = (names: string[]) => [...new Set(names)].sort()
  const probes: { method: string; headers: string[]; failing: CheckStatus }[] = [
    { method: 'POST', headers: unique(['content-type', ...own]), failing: 'fail' },
    { method: 'GET', headers: unique([TOKEN_HEADER, ...own]), failing: 'warn' },
    { method: 'DELETE', headers: unique([TOKEN_HEADER, ...own]), failing: 'warn' },
  ]
  // The routes the client calls; the id needn't exist, since CORS must answer before any route logic.
  const paths: Record<string, string> = { POST: '/uploads', GET: '/uploads/valet-doctor/parts', DELETE: '/uploads/valet-doctor' }
  const results = await Promise.all(
    probes.map(async (probe) => {
      const answer = await exchange(`${args.endpoint}${paths[probe.method]}`, {
        method: 'OPTIONS',
        headers: { origin: args.origin, 'access-control-request-method': probe.method, 'access-control-request-headers': probe.headers.join(',') },
        timeoutMs: ENDPOINT_TIMEOUT_MS,
      })
      const problems = answer.status === 0 ? [`no answer to the preflight: ${answer.error}`] : preflightProblems({ origin: args.origin, ...probe }, answer.status, answer.headers)
      return { probe, problems }
    }),
  )
  const issues: { status: CheckStatus; text: string }[] = results
    .filter((r) => r.problems.length > 0)
    .map((r) => ({ status: r.probe.failing, text: `preflight ${r.probe.method} (${r.probe.headers.join(', ')}): ${r.problems.join('; ')}` }))
  const unreadable = originProblem(created.headers, args.origin)
  if (unreadable) issues.unshift({ status: 'fail', text: `the answer to POST /uploads has ${unreadable}` })
  if (issues.length === 0) {
    return { id: 'endpoint-cors', status: 'ok', message: `a page on ${args.origin} may call the key endpoint (POST, GET, DELETE preflights pass; answers carry Access-Control-Allow-Origin)` }
  }
  const status: CheckStatus = issues.some((i) => i.status === 'fail') ? 'fail' : 'warn'
  const consequence = status === 'fail' ? 'uploads from the page fail' : 'resume (GET) or cancel (DELETE) fails in browsers'
  return {
    id: 'endpoint-cors',
    status,
    message: `a page on ${args.origin}: ${issues.map((i) => i.text).join(' | ')} — ${consequence}`,
    fix: endpointCorsFix(args.origin, own),
  }
}

/** Whether the key endpoint serves downloads: `on` (createValet has canRead), `off`, or `unknown`. */
export type Downloads = 'on' | 'off' | 'unknown'

/**
 * Asks `POST /downloads` for a key under `.valet/`, which an endpoint that reads refuses (403)
 * before calling canRead or storage, and one that does not (no canRead) answers 404 `not_found`.
 * Nothing is read or created.
 */
export async function probeDownloads(args: DoctorArgs): Promise<Downloads> {
  const answer = await exchange(`${args.endpoint}/downloads`, {
    method: 'POST',
    headers: headersFor(args, { 'content-type': 'application/json' }),
    body: JSON.stringify({ key: '.valet/valet-doctor-probe' }),
    timeoutMs: ENDPOINT_TIMEOUT_MS,
  })
  const code = valetError(answer)?.code
  if (answer.status === 403 && code === 'forbidden') return 'on'
  if (answer.status === 404 && code === 'not_found') return 'off'
  return 'unknown'
}
