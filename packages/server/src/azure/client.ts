/** The @azure/storage-blob client the provider talks through. */
import {
  ContainerClient,
  StorageSharedKeyCredential,
  newPipeline,
  type RequestPolicy,
  type RequestPolicyFactory,
  type WebResource,
} from '@azure/storage-blob'
import { AZURE_SERVICE_VERSION, type NormalizedAzureOptions } from './options.js'

/**
 * Overrides the `x-ms-version` the SDK writes. Its generated operations treat the version as a
 * constant (2026-04-06 in 12.32), ignoring client options, and Azurite 3.35 refuses that value in
 * strict mode. A legacy factory is the only hook the SDK's `Pipeline` offers that runs once per
 * request and before the Sign phase, so the shared-key signature covers the pinned value.
 */
const pinServiceVersion: RequestPolicyFactory = {
  create(nextPolicy: RequestPolicy): RequestPolicy {
    return {
      sendRequest(request: WebResource) {
        request.headers.set('x-ms-version', AZURE_SERVICE_VERSION)
        return nextPolicy.sendRequest(request)
      },
    }
  },
}

export interface AzureClients {
  credential: StorageSharedKeyCredential
  container: ContainerClient
}

export function createClients(options: NormalizedAzureOptions): AzureClients {
  const credential = new StorageSharedKeyCredential(options.accountName, options.accountKey)
  // The key server answers an HTTP request while it waits: a few quick retries, not the SDK's
  // default of minutes of backoff. A caller's AbortSignal still cuts any wait short.
  const pipeline = newPipeline(credential, {
    retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
  })
  pipeline.factories.push(pinServiceVersion)
  // Container names are validated to [a-z0-9-] (or $root / $web): nothing to escape.
  const url = `${options.endpoint}/${options.container}`
  return { credential, container: new ContainerClient(url, pipeline) }
}
