import { createRequire } from 'node:module'
import { ValetError } from '@valet/protocol'

/** The Azure SDK is an optional peer of @valet/server: S3 users never install it. */
export const AZURE_SDK = '@azure/storage-blob'

type Resolve = (id: string) => string

/**
 * Fails at `azure()` time, not at the first upload, when the SDK cannot be found from here.
 * `resolve` is for tests; by default Node's resolution from this module, the same one the lazy
 * `import()` of the provider will use.
 */
export function assertAzureSdk(resolve: Resolve = createRequire(import.meta.url).resolve): void {
  try {
    resolve(AZURE_SDK)
  } catch (error) {
    throw azureSdkMissing(error)
  }
}

export function azureSdkMissing(cause: unknown): ValetError {
  return new ValetError(
    'invalid_option',
    `azure(): the Azure provider needs the package ${AZURE_SDK}, which could not be loaded. ` +
      `Install it next to @valet/server: npm install ${AZURE_SDK} (or pnpm add / yarn add ${AZURE_SDK})`,
    // No one option is at fault: the whole call needs the package.
    { cause, context: { option: 'options', owner: 'azure()', package: AZURE_SDK } },
  )
}
