/**
 * Every error Valet raises, on the server or in the client, is a {@link ValetError} with a
 * stable `code`. Wire codes map to an HTTP status in exactly one table, {@link errorStatus}.
 */
import type { InvalidOptionContext } from './option-kit.js'

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
  object_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  part_mismatch: 409,
  size_mismatch: 409,
  object_exists: 409,
  payload_too_large: 413,
  file_too_large: 413,
  type_not_allowed: 415,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_uploads: 429,
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
  /** A download's object kept being replaced while it was fetched (each time it restarts from nothing). */
  'object_changed',
  /** A download's staging or destination could not be written or read (disk full, permissions, a file removed under it). */
  'destination_failed',
] as const

export type WireErrorCode = keyof typeof errorStatus
export type ClientErrorCode = (typeof clientErrorCodes)[number]
export type ErrorCode = WireErrorCode | ClientErrorCode

/** The JSON body of every error response: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: WireErrorCode; message: string }
}

/** Facts about an error, for codes whose context has no fixed shape. */
export type ErrorFacts = Record<string, unknown>

/**
 * The context of each code whose callers read it. Wire codes' facts are set where the server
 * throws; an error the client rebuilt from a response carries `status` and `operation` instead,
 * so they are optional.
 */
export interface ErrorContexts {
  invalid_option: InvalidOptionContext
  method_not_allowed: {
    /** The methods the path does take (the `Allow` header). */
    allow?: string[]
  }
  rate_limited: {
    /** Seconds to wait before trying again (the `Retry-After` header). */
    retryAfter?: number
  }
}

/**
 * `context` of an error with code `C`: its entry in {@link ErrorContexts} (plus any other facts),
 * or {@link ErrorFacts}. A union of codes, as `ErrorCode` itself, gets `ErrorFacts`.
 */
export type ContextOf<C extends ErrorCode> = [C] extends [keyof ErrorContexts] ? ErrorContexts[C] & ErrorFacts : ErrorFacts

export interface ValetErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The underlying error, kept for debugging. */
  cause?: unknown
  /** Facts that help a caller react: part number, HTTP status, option name... */
  context?: ContextOf<C>
}

// A code with a typed context must be thrown with it.
type OptionsArgument<C extends ErrorCode> = [C] extends [keyof ErrorContexts]
  ? [options: ValetErrorOptions<C> & { context: ContextOf<C> }]
  : [options?: ValetErrorOptions<C>]

/**
 * A `ValetError` of one code or another: comparing its `code` narrows its `context`. What
 * `instanceof ValetError` and {@link isValetError} narrow to.
 */
export type AnyValetError = { [C in ErrorCode]: ValetError<C> }[ErrorCode]

/**
 * The one error class of Valet.
 *
 * @example
 * ```ts
 * try { await upload.done } catch (e) {
 *   if (e instanceof ValetError && e.code === 'file_too_large') showLimit()
 *   if (e instanceof ValetError && e.code === 'invalid_option') highlight(e.context.option)
 * }
 * ```
 */
export class ValetError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'ValetError'
  readonly code: C
  readonly context: ContextOf<C>

  constructor(code: C, message: string, ...[options = {}]: OptionsArgument<C>) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    // A code with a typed context always gets one (OptionsArgument), so `{}` stands only for ErrorFacts.
    this.context = options.context ?? ({} as ContextOf<C>)
  }

  // Only so the type checker narrows `instanceof ValetError` to AnyValetError (whose code
  // narrows the context) rather than ValetError<any>; the test itself is the usual one.
  static override [Symbol.hasInstance](value: unknown): value is AnyValetError {
    return Function.prototype[Symbol.hasInstance].call(this, value)
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
export function isValetError(value: unknown): value is AnyValetError {
  return (
    value instanceof ValetError ||
    (value instanceof Error && value.name === 'ValetError' && typeof (value as ValetError).code === 'string')
  )
}
