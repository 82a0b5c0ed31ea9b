/**
 * Every error Valet raises, on the server or in the client, is a {@link ValetError} with a
 * stable `code`. Wire codes map to an HTTP status in exactly one table, {@link errorStatus}.
 */

/** Codes that travel on the wire, each with the HTTP status the server answers with. */
export const errorStatus = {
  bad_request: 400,
  invalid_part: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  token_invalid: 403,
  not_found: 404,
  upload_not_found: 404,
  method_not_allowed: 405,
  part_mismatch: 409,
  size_mismatch: 409,
  object_exists: 409,
  payload_too_large: 413,
  file_too_large: 413,
  type_not_allowed: 415,
  rate_limited: 429,
  internal_error: 500,
  storage_error: 502,
} as const

/** Codes only the client raises (they never come from the key endpoint). */
export const clientErrorCodes = [
  'invalid_option',
  'invalid_source',
  'network_error',
  'server_error',
  'storage_rejected',
  'checksum_mismatch',
  'retries_exhausted',
  'aborted',
  'paused',
  'resume_failed',
] as const

export type WireErrorCode = keyof typeof errorStatus
export type ClientErrorCode = (typeof clientErrorCodes)[number]
export type ErrorCode = WireErrorCode | ClientErrorCode

/** The JSON body of every error response: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: WireErrorCode; message: string }
}

export interface ValetErrorOptions {
  /** The underlying error, kept for debugging. */
  cause?: unknown
  /** Facts that help a caller react: part number, HTTP status, option name... */
  context?: Record<string, unknown>
}

/**
 * The one error class of Valet.
 *
 * @example
 * ```ts
 * try { await upload.done } catch (e) {
 *   if (e instanceof ValetError && e.code === 'file_too_large') showLimit()
 * }
 * ```
 */
export class ValetError extends Error {
  override readonly name = 'ValetError'
  readonly code: ErrorCode
  readonly context: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: ValetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.context = options.context ?? {}
  }

  /** HTTP status for wire codes; 500 for anything else (a client code never reaches the wire). */
  get status(): number {
    return isWireErrorCode(this.code) ? errorStatus[this.code] : 500
  }

  toJSON(): ErrorBody {
    const code = isWireErrorCode(this.code) ? this.code : 'internal_error'
    return { error: { code, message: this.message } }
  }
}

export function isWireErrorCode(code: unknown): code is WireErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(errorStatus, code)
}

/** Type guard that also works across duplicated copies of this package (dual ESM/CJS). */
export function isValetError(value: unknown): value is ValetError {
  return (
    value instanceof ValetError ||
    (value instanceof Error && value.name === 'ValetError' && typeof (value as ValetError).code === 'string')
  )
}
