import type { ContainerClient } from '@azure/storage-blob'
import type { RecordStore } from '../storage.js'
import { recordBlobName } from './blob-names.js'
import { isBlobMissing, statusOf, toValetError } from './errors.js'

/**
 * Records as block blobs under `.valet/` (never a name a valet key is signed for). `create` is a
 * Put Blob with `If-None-Match: *`, atomic in Azure Blob Storage: of two replicas creating the
 * same record, exactly one gets `true`.
 */
export function azureRecordStore(container: ContainerClient): RecordStore {
  const blobOf = (name: string) => container.getBlockBlobClient(recordBlobName(name))
  const put = (name: string, body: string, signal: AbortSignal | undefined, ifNoneMatch?: '*') =>
    blobOf(name).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions: ifNoneMatch ? { ifNoneMatch } : {},
      abortSignal: signal,
    })
  return {
    conditional: true,
    async create(name, body, signal) {
      try {
        await put(name, body, signal, '*')
        return true
      } catch (error) {
        const status = statusOf(error)
        if (!signal?.aborted && (status === 409 || status === 412)) return false
        throw toValetError(error, 'record create (Put Blob)', { signal, context: { record: name } })
      }
    },
    async read(name, signal) {
      try {
        return (await blobOf(name).downloadToBuffer(0, undefined, { abortSignal: signal })).toString('utf8')
      } catch (error) {
        if (!signal?.aborted && isBlobMissing(error)) return undefined
        throw toValetError(error, 'record read (Get Blob)', { signal, context: { record: name } })
      }
    },
    async write(name, body, signal) {
      try {
        await put(name, body, signal)
      } catch (error) {
        throw toValetError(error, 'record write (Put Blob)', { signal, context: { record: name } })
      }
    },
    async remove(name, signal) {
      try {
        await blobOf(name).delete({ abortSignal: signal })
      } catch (error) {
        if (!signal?.aborted && isBlobMissing(error)) return
        throw toValetError(error, 'record remove (Delete Blob)', { signal, context: { record: name } })
      }
    },
  }
}
