/** The provider's records (completion receipts) as small objects under `.valet/` in the bucket. */
import type { RecordStore } from '../storage.js'
import { S3Client, storageError } from './s3-client.js'

export const RECORD_PREFIX = '.valet/'

/**
 * Records in the bucket. `create` sends `If-None-Match: *`, which AWS S3 honours (412 when the
 * record exists); a store that answers 501 (Swift s3api 2.30: "Conditional object PUTs are not
 * supported") falls back to look-then-write for the rest of the process, and `conditional`
 * turns false so the core knows replicas can race.
 */
export function s3Records(client: S3Client): RecordStore {
  let conditional = true
  const keyOf = (name: string) => `${RECORD_PREFIX}${name}`
  const put = async (name: string, body: string, signal: AbortSignal | undefined, headers: Record<string, string> = {}) =>
    client.send({ operation: 'PutObject', method: 'PUT', key: keyOf(name), headers: { 'content-type': 'application/json', ...headers }, body, signal })
  const store: RecordStore = {
    get conditional() {
      return conditional
    },
    async create(name, body, signal) {
      if (conditional) {
        const res = await put(name, body, signal, { 'if-none-match': '*' })
        if (res.ok) return true
        if (res.status === 412 || res.status === 409) return false
        if (res.status !== 501) throw storageError(res)
        conditional = false
      }
      if ((await store.read(name, signal)) !== undefined) return false
      await store.write(name, body, signal)
      return true
    },
    async read(name, signal) {
      const res = await client.send({ operation: 'GetObject', method: 'GET', key: keyOf(name), signal })
      if (res.status === 404) return undefined
      if (!res.ok) throw storageError(res)
      return res.text
    },
    async write(name, body, signal) {
      const res = await put(name, body, signal)
      if (!res.ok) throw storageError(res)
    },
    async remove(name, signal) {
      const res = await client.send({ operation: 'DeleteObject', method: 'DELETE', key: keyOf(name), signal })
      if (!res.ok && res.status !== 404) throw storageError(res)
    },
  }
  return store
}
