/**
 * The Azure service version is the azure provider's (AZURE_SERVICE_VERSION); the Azurite launcher
 * needs it before any provider exists and @valet/server/azure does not export it, so it keeps a
 * copy: this keeps the copy honest.
 */
import { expect, it } from 'vitest'
import { AZURE_SERVICE_VERSION } from '../../packages/server/src/azure/options.js'
import { SERVICE_VERSION } from '../../packages/cli/src/azurite.js'

it("the Azurite launcher sends the azure provider's x-ms-version", () => {
  expect(SERVICE_VERSION).toBe(AZURE_SERVICE_VERSION)
})
