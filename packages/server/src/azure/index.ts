/**
 * @module @valet/server/azure — the Azure Blob Storage provider:
 * `azure({ accountName, accountKey, container, endpoint? })`.
 *
 * Mapping. An upload is a *staging blob* `.valet/staging/<owner>/<uploadId>` in the container;
 * each part is one block of it (Put Block through a blob SAS with `w` only), resume reads its
 * block list, and complete commits the blocks on it and copies it to the object key with
 * `If-None-Match: *`. A part key never names an object, so no part key can replace, lease,
 * snapshot or re-type an approved object (see `commit-upload.ts` and docs/security.md for what a
 * key allows, operation by operation). A single-PUT key (a file that fits one part) names the
 * object itself with `c` only: it creates that blob once and can never overwrite it
 * (`azure-single-put.ts`).
 *
 * Part etags. Put Block returns no ETag and Get Block List returns only names and sizes, so the
 * Azure part etag is the part's **base64 MD5**: the `Content-MD5` the key was signed with, which
 * the block id carries (`block-id.ts`). `listParts` reports it; `complete` rebuilds each block id
 * from the client's `{ partNumber, etag }` and commits exactly those blocks or fails with
 * `part_mismatch`. `complete` also accepts the MD5 quoted or as 32 hex digits.
 *
 * Dependencies. `@azure/storage-blob` is an optional peer dependency of @valet/server: it is
 * loaded on the first storage call, and `azure()` fails at once, naming the package, when it is
 * not installed. Importing this module never needs it.
 */
import type { StorageProvider } from '../storage.js'
import { assertAzureSdk, azureSdkMissing } from './azure-sdk.js'
import { normalizeAzureOptions, type AzureOptions } from './options.js'
import { azureStorageLimits } from './storage-limits.js'

export type { AzureOptions } from './options.js'
/**
 * The Azure Blob service version the provider signs for and sends (`x-ms-version`): pinned, since
 * @azure/storage-blob 12.32 sends 2026-04-06, which Azurite 3.35 refuses in strict mode. Tools
 * that talk to the same Azurite (valet dev's launcher) send it too.
 */
export { AZURE_SERVICE_VERSION } from './options.js'
export { azureStorageLimits } from './storage-limits.js'

/**
 * Azure Blob Storage (and Azurite) as Valet's storage.
 *
 * @example
 * ```ts
 * import { createValet } from '@valet/server'
 * import { azure } from '@valet/server/azure' // needs: npm install @azure/storage-blob
 * const valet = createValet({
 *   storage: azure({ accountName: 'myaccount', accountKey: process.env.AZURE_KEY!, container: 'uploads' }),
 *   secret, authorize,
 * })
 * ```
 * The container must exist, and browsers need CORS on the account's blob service: allow `PUT`
 * with header `content-md5` (and with `singlePut: true`, `if-none-match`, `x-ms-blob-type`,
 * `x-ms-blob-content-*`, `x-ms-meta-*` and `x-ms-version`; or `*`) and expose `content-md5`
 * and `etag`; for downloads (`canRead`), `GET` with `x-ms-range`, `if-match`, `x-ms-version`,
 * exposing `etag` and `content-range`. Add a lifecycle rule
 * deleting `<container>/.valet/staging/` blobs after a few days (docs/security.md); never
 * `.valet/manifests/` (the part MD5s downloads verify against).
 * @throws `ValetError('invalid_option')` naming a bad option, or when `@azure/storage-blob` is
 * not installed.
 */
export function azure(options: AzureOptions): StorageProvider {
  const config = normalizeAzureOptions(options)
  assertAzureSdk()
  let loading: Promise<StorageProvider> | undefined
  const provider = (): Promise<StorageProvider> =>
    (loading ??= import('./create-azure-provider.js').then(
      (m) => m.createAzureProvider(config),
      (error: unknown) => {
        loading = undefined // installed later (or a transient failure): try again on the next call
        throw azureSdkMissing(error)
      },
    ))
  return {
    name: 'azure',
    limits: azureStorageLimits,
    create: async (input) => (await provider()).create(input),
    signPart: async (input) => (await provider()).signPart(input),
    signRead: async (input) => (await provider()).signRead!(input),
    readParts: async (input) => (await provider()).readParts!(input),
    listParts: async (input) => (await provider()).listParts(input),
    uploadState: async (input) => (await provider()).uploadState(input),
    findCommitted: async (input) => (await provider()).findCommitted(input),
    stat: async (input) => (await provider()).stat(input),
    complete: async (input) => (await provider()).complete(input),
    abort: async (input) => (await provider()).abort(input),
    countOpenUploads: async (input) => (await provider()).countOpenUploads(input),
    records: {
      conditional: true,
      create: async (name, body, signal) => (await provider()).records.create(name, body, signal),
      read: async (name, signal) => (await provider()).records.read(name, signal),
      write: async (name, body, signal) => (await provider()).records.write(name, body, signal),
      remove: async (name, signal) => (await provider()).records.remove(name, signal),
    },
    // Opt-in (see AzureOptions.singlePut): without it every file is staged and copied.
    ...(config.singlePut
      ? {
          singlePut: {
            sign: async (input) => (await provider()).singlePut!.sign(input),
            remove: async (input) => (await provider()).singlePut!.remove(input),
          },
        }
      : {}),
  }
}
