import { azureLimits } from '@valet/protocol'
import type { StorageLimits } from '../storage.js'

/**
 * Azure's part limits, plus what it accepts as metadata. Azure documents one metadata limit:
 * "The total size of all metadata pairs can be up to 8KB in size" (Setting and retrieving
 * properties and metadata for Blob service resources,
 * https://learn.microsoft.com/rest/api/storageservices/setting-and-retrieving-properties-and-metadata-for-blob-resources).
 * It sets no count or per-value limit of its own, so these two are chosen to stay far inside the
 * 8 KiB together with the protocol's own cap (names ≤ 64 characters, 2048 bytes of user metadata
 * in all): 64 names of 64 characters plus 2048 bytes of values is 6 KiB, which leaves 2 KiB for
 * the `valet_*` entries Valet adds itself.
 */
export const azureStorageLimits: StorageLimits = {
  ...azureLimits,
  maxMetadataCount: 64,
  maxMetadataValueBytes: 2048,
  maxMetadataBytes: 2048,
}
