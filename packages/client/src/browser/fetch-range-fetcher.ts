/**
 * Ranged GETs in browsers with `fetch`: unlike XHR it hands the body over as a stream, so each
 * chunk goes to staging as it arrives and a 256 MiB range never sits in the page's memory.
 */
import { ValetError } from '@valet/protocol'
import type { RangeFetcher, RangeGetRequest, RangeGetResponse } from '../download/download-ports.js'

/** Where the fetcher gets `fetch` (tests pass a fake). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

function networkError(message: string, cause?: unknown): ValetError {
  return new ValetError('network_error', message, cause === undefined ? undefined : { cause })
}

/** Marks an error `onChunk` threw, so it is passed on as it is, not called a network error. */
class FromChunk {
  constructor(readonly error: unknown) {}
}

/**
 * A {@link RangeFetcher} over `fetch`. Headers go out exactly as signed; `cache: 'no-store'`
 * because a ranged answer from the HTTP cache would skip the `If-Match` check storage makes.
 * A storage error without CORS headers (Swift's 4xx) can't be read by the page: it rejects as a
 * network error, which the engine retries with a fresh key, as it does for uploads.
 *
 * @example
 * ```ts
 * const fetcher = fetchRangeFetcher()
 * await fetcher.get({ url, headers: { range: 'bytes=0-99' }, signal, onChunk: (c) => sink.write(c) })
 * ```
 */
export function fetchRangeFetcher(fetchFn: FetchFunction = (input, init) => fetch(input, init)): RangeFetcher {
  return {
    async get(request: RangeGetRequest): Promise<RangeGetResponse> {
      const { signal } = request
      if (signal.aborted) throw signal.reason
      let response: Response
      try {
        response = await fetchFn(request.url, { method: 'GET', headers: request.headers, signal, cache: 'no-store', credentials: 'omit' })
      } catch (error) {
        if (signal.aborted) throw signal.reason
        throw networkError(`GET of a range failed before any answer: ${(error as Error)?.message ?? String(error)}`, error)
      }
      const headers: Record<string, string> = {}
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value
      })
      if (response.status < 200 || response.status >= 300) {
        const body = await response.text().catch((error: unknown) => {
          if (signal.aborted) throw signal.reason
          // The status is what counts: an unreadable error body only loses detail.
          return ''
        })
        return { status: response.status, headers, body }
      }
      await readBody(response, request, headers['content-length'])
      return { status: response.status, headers, body: '' }
    },
  }
}

async function readBody(response: Response, request: RangeGetRequest, contentLength: string | undefined): Promise<void> {
  const { signal } = request
  if (response.body === null) {
    if (contentLength !== undefined && Number(contentLength) > 0) throw networkError(`the answer announced ${contentLength} bytes and had no body`)
    return
  }
  const reader = response.body.getReader()
  let received = 0
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>
      try {
        step = await reader.read()
      } catch (error) {
        if (signal.aborted) throw signal.reason
        throw networkError(`the connection failed after ${received} bytes of the range: ${(error as Error)?.message ?? String(error)}`, error)
      }
      if (step.done) break
      received += step.value.byteLength
      try {
        await request.onChunk(step.value)
      } catch (error) {
        throw new FromChunk(error)
      }
      if (signal.aborted) throw signal.reason
    }
  } catch (error) {
    // Stop the download of the rest; the reader's own failure is not ours to report.
    reader.cancel().catch(() => {})
    throw error instanceof FromChunk ? error.error : error
  }
  // Browsers fail a body shorter than its Content-Length themselves; this catches any that doesn't.
  if (contentLength !== undefined && /^\d+$/.test(contentLength) && Number(contentLength) !== received) {
    throw networkError(`the body ended after ${received} of ${contentLength} bytes`)
  }
}
