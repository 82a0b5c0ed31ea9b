/** Options of the Azure Blob provider and their one-time normalization. */
import { OptionReader } from '@valet/protocol'

/** Options of {@link azure}. */
export interface AzureOptions {
  /**
   * Storage account name: 3–24 lowercase letters and digits (`devstoreaccount1` for Azurite).
   */
  accountName: string
  /**
   * Base64 shared key of the account. It signs the SAS of every part and the provider's own
   * requests, so it never leaves the server.
   */
  accountKey: string
  /** Existing container that receives the uploads (created beforehand; CORS set on the account). */
  container: string
  /**
   * Blob service endpoint, without container. For Azurite and other path-style services include
   * the account: `http://127.0.0.1:10000/devstoreaccount1`.
   * @default `https://${accountName}.blob.core.windows.net`
   */
  endpoint?: string
  /**
   * Send files that fit one part as one Put Blob of the object (a single-PUT upload) instead of
   * a staged block and a copy: two fewer storage requests per small file. Off by default, because
   * a `c` (create-only) SAS is checked when a request *arrives*: a holder who starts a second,
   * slow PUT before the first lands (dropping the signed `If-None-Match: *`) can replace the
   * object after complete verified it and `onComplete` ran (measured on Azurite 3.35; Azure does
   * not document when it checks). Turn it on only where uploaders may replace their own objects
   * (docs/security.md, "Single-PUT keys").
   * @default false
   */
  singlePut?: boolean
}

/** {@link AzureOptions} after validation, with defaults applied. */
export interface NormalizedAzureOptions {
  accountName: string
  accountKey: string
  container: string
  /** No trailing slash, no query. */
  endpoint: string
  /** Whether the endpoint is HTTPS, so SAS can be restricted to HTTPS. */
  https: boolean
  singlePut: boolean
}

/**
 * Service version of every request and SAS (`sv`). Pinned rather than the SDK default
 * (12.32 sends 2026-04-06) so behaviour does not move with SDK updates and so Azurite 3.34+ accepts
 * it in strict mode; 2019-12-12 or later is needed for 4000 MiB blocks (see `azureLimits`).
 */
export const AZURE_SERVICE_VERSION = '2025-05-05'

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/
// Base64: whole groups of four characters.
const ACCOUNT_KEY = /^(?=(?:.{4})+$)[A-Za-z0-9+/]+={0,2}$/s
// Azure container naming rules, plus the two reserved containers.
const CONTAINER = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$|^\$root$|^\$web$/

/**
 * Validates {@link AzureOptions} once, at provider creation, so a misconfiguration fails at start
 * rather than on the first upload. Pure; throws `ValetError('invalid_option')` naming the bad option.
 */
export function normalizeAzureOptions(options: AzureOptions): NormalizedAzureOptions {
  // Typed, so the checker knows `read.fail()` never returns.
  const read: OptionReader = new OptionReader('azure()', options)
  const accountName = read.string('accountName', { required: true, pattern: ACCOUNT_NAME, hint: '3–24 lowercase letters and digits' })
  const accountKey = read.string('accountKey', { required: true, pattern: ACCOUNT_KEY, hint: 'the base64 account key', secret: true })
  const container = read.string('container', {
    required: true,
    pattern: CONTAINER,
    hint: '3–63 lowercase letters, digits and single hyphens, starting with a letter or digit',
  })
  const url = read.httpUrl('endpoint', `https://${accountName}.blob.core.windows.net`)
  const endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  const singlePut = read.boolean('singlePut', false)
  return { accountName, accountKey, container, endpoint, https: endpoint.startsWith('https:'), singlePut }
}
