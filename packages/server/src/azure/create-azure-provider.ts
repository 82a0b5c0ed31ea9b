/**
 * The Azure provider itself, loaded by `azure()` on first use so that @azure/storage-blob (an
 * optional peer) is only needed by apps that use Azure.
 */
import type { BlockBlobClient } from '@azure/storage-blob'
import { ValetError, type StoredPart } from '@valet/protocol'
import type { CommitRef, CompleteInput, CountInput, CreateInput, SignPartInput, SignReadInput, ReadPartsInput, StorageProvider, UploadRef, UploadState } from '../storage.js'
import { checkObjectKey, stagingName } from './blob-names.js'
import { isUploadId } from './block-id.js'
import { createClients } from './client.js'
import { azureSinglePut } from './azure-single-put.js'
import { commitUpload, expectedBlockIds, findCommitted } from './commit-upload.js'
import { countOpenUploads } from './count-open-uploads.js'
import type { NormalizedAzureOptions } from './options.js'
import { azureRecordStore } from './record-store.js'
import { signPart } from './sign-part.js'
import { signRead } from './sign-read.js'
import { readParts } from './read-parts.js'
import { openStaging, readProperties, stagedParts, stagingState, tombstone, type Staging } from './staging-blob.js'
import { azureStorageLimits } from './storage-limits.js'
import { storedObject } from './stored-object.js'

export function createAzureProvider(config: NormalizedAzureOptions): StorageProvider {
  const { credential, container } = createClients(config)
  const finalOf = (key: string): BlockBlobClient => {
    checkObjectKey(key)
    return container.getBlockBlobClient(key)
  }
  const stagingOf = ({ owner, uploadId, signal }: Pick<UploadRef, 'owner' | 'uploadId' | 'signal'>): Staging => ({
    blob: container.getBlockBlobClient(stagingName(owner, uploadId)),
    uploadId,
    signal,
  })

  return {
    name: 'azure',
    limits: azureStorageLimits,

    async create({ key, owner, uniqueId, signal }: CreateInput) {
      // The upload id is the key's unique id: an idempotent create sent again names the same
      // staging blob, so it finds the upload its first attempt started instead of starting another.
      if (!isUploadId(uniqueId)) throw new ValetError('internal_error', 'azure(): uniqueId must be a lowercase UUID', { context: { uniqueId } })
      const final = finalOf(key)
      const staging = stagingOf({ owner, uploadId: uniqueId, signal })
      // Already committed at the key (the same create sent after its upload completed): write
      // nothing, so no staging blob lingers; uploadState answers `completed` for it.
      if ((await readProperties(final, signal, 'create')) === undefined) await openStaging(staging)
      return { uploadId: uniqueId }
    },

    async signPart(input: SignPartInput) {
      return signPart(config, credential, container, input)
    },

    async signRead(input: SignReadInput) {
      return signRead(config, credential, container, input)
    },

    async readParts(input: ReadPartsInput) {
      return readParts(finalOf(input.key), input)
    },

    async listParts(ref: UploadRef): Promise<StoredPart[]> {
      return stagedParts(stagingOf(ref))
    },

    async uploadState(ref: UploadRef): Promise<UploadState> {
      if (!isUploadId(ref.uploadId)) return 'aborted'
      const [final, staging] = await Promise.all([readProperties(finalOf(ref.key), ref.signal, 'upload state'), stagingState(stagingOf(ref))])
      return final !== undefined ? 'completed' : staging
    },

    async stat({ key, signal }) {
      const final = finalOf(key)
      const props = await readProperties(final, signal, 'stat')
      return props === undefined ? undefined : storedObject(final, props)
    },

    async findCommitted(ref: CommitRef) {
      let ids: string[] | undefined
      try {
        ids = expectedBlockIds(ref.uploadId, ref.parts)
      } catch {
        ids = undefined // a list that cannot be this upload's: any object at the key is another's
      }
      return findCommitted(finalOf(ref.key), stagingOf(ref), ids)
    },

    async complete(input: CompleteInput) {
      const { type, disposition, metadata } = input
      const ids = expectedBlockIds(input.uploadId, input.parts)
      return commitUpload({ final: finalOf(input.key), staging: stagingOf(input), ids, type, disposition, metadata })
    },

    async abort(ref: UploadRef): Promise<void> {
      // Only the staging blob is touched; the object at the key, if any, is never written here.
      if (!isUploadId(ref.uploadId)) return
      const staging = stagingOf(ref)
      // Nothing committed there: never created, already completed (and cleaned up), or expired.
      if ((await readProperties(staging.blob, ref.signal, 'abort')) === undefined) return
      await tombstone(staging)
    },

    async countOpenUploads({ owner, limit, signal }: CountInput): Promise<number> {
      return countOpenUploads(container, owner, limit, signal)
    },

    records: azureRecordStore(container),

    ...(config.singlePut ? { singlePut: azureSinglePut(config, credential, finalOf) } : {}),
  }
}
