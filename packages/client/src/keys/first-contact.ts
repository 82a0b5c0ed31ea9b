/**
 * Errors for a key endpoint that has never given a Valet answer: the URL is wrong, nothing
 * listens there, or something else answers. Each names the URL, the likely cause and the
 * command that checks a deployment (`valet doctor`), and says `reached: false` in its context:
 * the request never got to a Valet server, so nothing was created that a retry must find again.
 */
import { ValetError } from '@valet/protocol'
import type { HttpResponse } from '../ports.js'
import type { AttemptFailure } from '../engine/retry-policy.js'

/**
 * Before a first Valet answer, failures are retried this long (a server still starting up),
 * then reported: well inside the 5 s a person waits before giving up on a command or a page.
 */
export const FIRST_CONTACT_WINDOW_MS = 3_000

export type FirstContactCause = 'refused' | 'dns' | 'unreachable' | 'timeout' | 'proxy' | 'not-valet'

const doctor = (endpoint: string): string => `Check it with: valet doctor --endpoint ${absolute(endpoint)}`

/** A path endpoint (browsers) as the URL it resolves to, so the doctor command can be pasted. */
function absolute(endpoint: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href
  try {
    return new URL(endpoint, base).href.replace(/\/+$/, '')
  } catch {
    return endpoint
  }
}

function causeOf(error: ValetError, failure: AttemptFailure): FirstContactCause {
  if (failure.kind === 'status') return 'proxy'
  const code = String(error.context.code ?? '')
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns'
  return /no answer .* within/.test(error.message) ? 'timeout' : 'unreachable'
}

const EXPLAIN: Record<Exclude<FirstContactCause, 'not-valet'>, (host: string) => string> = {
  refused: () => 'connection refused (is the key server running, on that host and port?).',
  dns: (host) => `the host name ${host} does not resolve (a typo in the endpoint URL?).`,
  unreachable: () =>
    'no HTTP answer: the key server is down or the URL is wrong; in a browser, a key endpoint on another origin must also allow this page (CORS).',
  timeout: () => 'it accepted the connection but never answered (is something else listening on that port?).',
  proxy: () => 'a proxy answered with an error page: the key server behind it is not running.',
}

function hostOf(url: string): string {
  try {
    return new URL(url, (globalThis as { location?: { href?: string } }).location?.href).host
  } catch {
    return url
  }
}

/** The key endpoint could not be reached (or only a proxy answered) before it ever answered. */
export function firstContactError(endpoint: string, url: string, error: ValetError, failure: AttemptFailure): ValetError {
  const cause = causeOf(error, failure)
  const status = failure.kind === 'status' ? ` (${failure.status})` : ''
  const message = `cannot reach the Valet key endpoint at ${absolute(endpoint)}${status}: ${EXPLAIN[cause as keyof typeof EXPLAIN](hostOf(url))} ${doctor(endpoint)}`
  return new ValetError('network_error', message, {
    cause: error,
    context: { ...error.context, url: absolute(endpoint), cause, reached: false, ...(failure.kind === 'status' ? { status: failure.status } : {}) },
  })
}

/** Something that is not a Valet key endpoint answered: a 404/405, or a page that is not JSON. */
export function notAnEndpointError(endpoint: string, method: string, url: string, res: HttpResponse): ValetError {
  const what =
    res.status === 404
      ? 'nothing is mounted at that path'
      : res.status === 405
        ? `that URL does not take ${method}: it is not where @valet/server is mounted`
        : 'the answer is not JSON from @valet/server (a web page answered instead)'
  const path = url.slice(endpoint.length) || '/'
  const message =
    `the key endpoint at ${absolute(endpoint)} answered ${res.status} to ${method} ${path}: ${what}. ` +
    `Set the endpoint option to the URL where @valet/server is mounted (e.g. http://127.0.0.1:3000/api/valet). ${doctor(endpoint)}`
  return new ValetError('server_error', message, {
    context: { status: res.status, url: absolute(endpoint), cause: 'not-valet', reached: false, body: res.body.length > 300 ? `${res.body.slice(0, 300)}…` : res.body },
  })
}
