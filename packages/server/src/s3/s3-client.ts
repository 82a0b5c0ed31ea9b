/** Signed S3 REST calls over the global `fetch`, with storage failures turned into `ValetError`s. */
import { AwsClient } from 'aws4fetch'
import { ValetError } from '@valet/protocol'
import { sha256Hex } from '../sha256-hex.js'
import { bucketUrl, objectUrl } from './object-url.js'
import type { ResolvedS3Options } from './s3-options.js'
import { parseS3Error } from './s3-xml.js'

export interface S3Request {
  /** S3 action name, for error messages: `CreateMultipartUpload`. */
  operation: string
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'
  /** Object key; `undefined` addresses the bucket itself (ListMultipartUploads). */
  key: string | undefined
  /** Query parameters; `''` gives a bare flag such as `?uploads`. */
  query?: Record<string, string>
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export interface S3Response {
  operation: string
  status: number
  /** `true` for a 2xx answer whose body is not an `<Error>` document. */
  ok: boolean
  headers: Headers
  text: string
  /** The parsed `<Error>` body, when storage sent one. */
  error: { code: string; message: string | undefined; requestId: string | undefined } | undefined
}

function describe(reason: unknown): string {
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)
}

/** Builds the `storage_error` for a failed S3 answer. */
export function storageError(res: S3Response): ValetError {
  const s3Code = res.error?.code
  const detail = s3Code === undefined ? `HTTP ${res.status}` : `${s3Code} (HTTP ${res.status})${res.error?.message ? `: ${res.error.message}` : ''}`
  return new ValetError('storage_error', `S3 ${res.operation} failed: ${detail}`, {
    context: { operation: res.operation, status: res.status, s3Code, requestId: res.error?.requestId ?? res.headers.get('x-amz-request-id') ?? undefined },
  })
}

/** Sends header-signed (SigV4) requests to one bucket. Runtime-agnostic: `fetch` and WebCrypto only. */
export class S3Client {
  readonly #options: ResolvedS3Options
  readonly #aws: AwsClient

  constructor(options: ResolvedS3Options) {
    this.#options = options
    this.#aws = new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
      // Explicit, so aws4fetch never guesses them from a custom endpoint's host name.
      service: 's3',
      region: options.region,
      // The Valet client already retries 5xx answers of the key endpoint, with backoff.
      retries: 0,
    })
  }

  /**
   * Sends one request. Answers of any status come back as an {@link S3Response}; network
   * failures and aborts (the `signal`, e.g. a timeout) throw `ValetError('storage_error')`.
   */
  async send(req: S3Request): Promise<S3Response> {
    const url = req.key === undefined ? new URL(bucketUrl(this.#options)) : objectUrl(this.#options, req.key)
    url.search = Object.entries(req.query ?? {})
      .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
      .join('&')
    const body = req.body ?? ''
    const headers = new Headers(req.headers)
    // Signing the payload hash (instead of UNSIGNED-PAYLOAD) protects the Complete body over
    // plain http, costs nothing for these tiny bodies, and s3api requires the header anyway.
    headers.set('x-amz-content-sha256', await sha256Hex(body))
    const signal = req.signal
    try {
      const request = await this.#aws.sign(url.toString(), {
        method: req.method,
        headers,
        body: body === '' ? undefined : body,
        signal,
      })
      const response = await fetch(request)
      const text = req.method === 'HEAD' ? '' : await response.text()
      const error = parseS3Error(text)
      return {
        operation: req.operation,
        status: response.status,
        ok: response.ok && error === undefined,
        headers: response.headers,
        text,
        error,
      }
    } catch (cause) {
      const aborted = signal?.aborted === true
      const why = aborted ? `aborted (${describe(signal.reason)})` : `network error (${describe(cause)})`
      throw new ValetError('storage_error', `S3 ${req.operation} failed: ${why}`, {
        cause: aborted ? signal.reason : cause,
        context: { operation: req.operation, aborted },
      })
    }
  }
}
