/** Turns @azure/storage-blob failures into `ValetError`s the core handler can answer with. */
import { ValetError, isValetError, type ErrorCode } from '@valet/protocol'

export interface AzureFailure {
  /** HTTP status from storage; `undefined` when no response came back (network, DNS, TLS). */
  status: number | undefined
  /** Azure's `x-ms-error-code`, e.g. `BlobNotFound`, `InvalidBlockList`, `AuthenticationFailed`. */
  azureCode: string | undefined
}

/** Reads status and Azure error code from an SDK `RestError` (or anything shaped like one). */
export function azureFailure(error: unknown): AzureFailure {
  if (typeof error !== 'object' || error === null) return { status: undefined, azureCode: undefined }
  const e = error as { statusCode?: unknown; code?: unknown; details?: { errorCode?: unknown } }
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined
  const code = typeof e.details?.errorCode === 'string' ? e.details.errorCode : typeof e.code === 'string' ? e.code : undefined
  // Without a status, `code` is a transport code such as ECONNREFUSED or REQUEST_SEND_ERROR.
  return { status, azureCode: status === undefined ? undefined : code }
}

/** HTTP status of a storage failure; `undefined` when no response came back. */
export function statusOf(error: unknown): number | undefined {
  return azureFailure(error).status
}

/**
 * A 404 about the blob itself. A missing container is a 404 too, but a misconfiguration, which
 * must surface as `storage_error` (with its hint), not pass for "no such upload".
 */
export function isBlobMissing(error: unknown): boolean {
  const { status, azureCode } = azureFailure(error)
  return status === 404 && azureCode !== 'ContainerNotFound'
}

/** True when the failure carries this Azure error code. */
export function hasAzureCode(error: unknown, ...codes: string[]): boolean {
  const { azureCode } = azureFailure(error)
  return azureCode !== undefined && codes.includes(azureCode)
}

const HINTS: Record<string, string> = {
  AuthenticationFailed: 'check accountName and accountKey',
  AuthorizationFailure: 'the account key may lack rights, or a firewall blocks the server',
  ContainerNotFound: 'create the container first',
  InvalidHeaderValue: 'the storage service may not support the pinned service version',
}

/**
 * Wraps a storage failure: `ValetError(code, …, { cause, context: { status, azureCode, … } })`.
 * When the caller's signal aborted, rethrows its reason instead: the request was cancelled, storage
 * did not fail. A `ValetError` passes through unchanged.
 */
export function toValetError(
  error: unknown,
  operation: string,
  options: { signal?: AbortSignal; code?: ErrorCode; context?: Record<string, unknown> } = {},
): unknown {
  if (isValetError(error)) return error
  if (options.signal?.aborted) return options.signal.reason ?? error
  const { status, azureCode } = azureFailure(error)
  const code = options.code ?? 'storage_error'
  const what = status === undefined ? 'could not reach storage' : `storage answered ${status}${azureCode ? ` ${azureCode}` : ''}`
  const hint = azureCode ? HINTS[azureCode] : undefined
  const detail = error instanceof Error && status === undefined ? `: ${error.message}` : ''
  return new ValetError(code, `Azure ${operation} failed: ${what}${detail}${hint ? ` (${hint})` : ''}`, {
    cause: error,
    context: { ...options.context, status, azureCode },
  })
}
