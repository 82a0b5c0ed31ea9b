import { expect, inject, type ExpectStatic } from 'vitest'
import { AwsClient } from 'aws4fetch'
import { s3 } from '@valet/server/s3'
import { azure } from '@valet/server/azure'
// The provider's own client (service version pinned for Azurite): the reader shares its fixes.
import { createClients } from '../../packages/server/src/azure/client.js'
import { normalizeAzureOptions } from '../../packages/server/src/azure/options.js'
import type { StorageProvider } from '@valet/server'
import { sha256 } from './key-endpoint.js'

export interface StoredObject {
  bytes: Uint8Array
  type: string | null
  disposition: string | null
  metadata: Record<string, string>
}

/** One real storage under test, with a reader that goes through the storage's own API. */
export interface StorageCase {
  name: 'swift' | 'azurite'
  provider(): StorageProvider
  /** Reads an object back with the storage's own credentials, or `undefined` when absent. */
  read(key: string): Promise<StoredObject | undefined>
  /** Multipart uploads still open in storage (S3 ListMultipartUploads; Azure: uncommitted blobs). */
  openUploads(prefix: string): Promise<number>
  /** Writes `bytes` at `key` with the storage's own credentials, over whatever is there. */
  write(key: string, bytes: Uint8Array): Promise<void>
  /**
   * Writes `bytes` at `key` in parts of `partSize`, with the storage's own API and none of
   * Valet's records (S3 multipart upload; Azure blocks with the SDK's own ids): an object with no
   * whole-object MD5 and no part manifest.
   */
  writeInParts(key: string, bytes: Uint8Array, partSize: number): Promise<void>
}

export function swiftCase(): StorageCase {
  const info = inject('swift')
  const aws = new AwsClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey, region: info.region, service: 's3' })
  const objectUrl = (key: string) => `${info.endpoint}/${info.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
  return {
    name: 'swift',
    provider: () =>
      s3({
        endpoint: info.endpoint,
        region: info.region,
        bucket: info.bucket,
        credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
        forcePathStyle: true,
      }),
    async read(key) {
      const res = await aws.fetch(objectUrl(key))
      if (res.status === 404) return undefined
      if (!res.ok) throw new Error(`GET ${key}: ${res.status} ${await res.text()}`)
      const metadata: Record<string, string> = {}
      res.headers.forEach((v, k) => {
        if (k.startsWith('x-amz-meta-')) metadata[k.slice('x-amz-meta-'.length)] = v
      })
      return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), metadata }
    },
    async write(key, bytes) {
      const res = await aws.fetch(objectUrl(key), { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> })
      if (!res.ok) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`)
    },
    async writeInParts(key, bytes, partSize) {
      const created = await aws.fetch(`${objectUrl(key)}?uploads`, { method: 'POST' })
      const text = await created.text()
      if (!created.ok) throw new Error(`CreateMultipartUpload ${key}: ${created.status} ${text}`)
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(text)![1]!
      const etags: string[] = []
      for (let n = 1; (n - 1) * partSize < bytes.byteLength; n++) {
        const body = bytes.subarray((n - 1) * partSize, Math.min(bytes.byteLength, n * partSize))
        const res = await aws.fetch(`${objectUrl(key)}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`, { method: 'PUT', body: body as Uint8Array<ArrayBuffer> })
        if (!res.ok) throw new Error(`UploadPart ${n} of ${key}: ${res.status} ${await res.text()}`)
        etags.push(res.headers.get('etag')!)
      }
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
      const done = await aws.fetch(`${objectUrl(key)}?uploadId=${encodeURIComponent(uploadId)}`, { method: 'POST', body: xml })
      if (!done.ok) throw new Error(`CompleteMultipartUpload ${key}: ${done.status} ${await done.text()}`)
    },
    async openUploads(prefix) {
      const res = await aws.fetch(`${info.endpoint}/${info.bucket}?uploads&prefix=${encodeURIComponent(prefix)}`)
      const text = await res.text()
      if (!res.ok) throw new Error(`ListMultipartUploads: ${res.status} ${text}`)
      return (text.match(/<Upload>/g) ?? []).length
    },
  }
}

/** Azurite as a StorageCase: the global setup's, or another one (e.g. the one `valet dev` started). */
export function azuriteCase(info: { accountName: string; accountKey: string; container: string; endpoint: string } = inject('azurite')): StorageCase {
  const options = { accountName: info.accountName, accountKey: info.accountKey, container: info.container, endpoint: info.endpoint }
  const { container } = createClients(normalizeAzureOptions(options))
  return {
    name: 'azurite',
    provider: () => azure(options),
    async read(key) {
      const blob = container.getBlobClient(key)
      if (!(await blob.exists())) return undefined
      const bytes = await blob.downloadToBuffer()
      const props = await blob.getProperties()
      return { bytes: new Uint8Array(bytes), type: props.contentType ?? null, disposition: props.contentDisposition ?? null, metadata: props.metadata ?? {} }
    },
    async write(key, bytes) {
      await container.getBlockBlobClient(key).uploadData(bytes)
    },
    async writeInParts(key, bytes, partSize) {
      // Staged blocks and Put Block List: the blob has no Content-MD5.
      await container.getBlockBlobClient(key).uploadData(bytes, { blockSize: partSize, maxSingleShotSize: 0, concurrency: 1 })
    },
    async openUploads(prefix) {
      // An open Azure upload is its staging blob, `.valet/staging/<owner>/<uploadId>`, holding the
      // open marker (a tombstone marks an aborted one). With the default key layout
      // `<owner>/<uniqueId>/<name>` the upload id is the key's unique id: an object key names
      // exactly its own upload's staging blob; a bare owner prefix, all of that owner's.
      const [owner, uniqueId] = prefix.split('/')
      const staging = `.valet/staging/${owner}/${/^[0-9a-f-]{36}$/.test(uniqueId ?? '') ? uniqueId : ''}`
      let open = 0
      for await (const item of container.listBlobsFlat({ prefix: staging, includeMetadata: true })) {
        if (item.metadata?.valet_aborted_upload === undefined) open++
      }
      return open
    },
  }
}

export const storageCases = [swiftCase, azuriteCase]

/**
 * A provider for `storage` whose endpoint is `endpoint` (the proxy's) instead of the storage's own.
 * `singlePut`: Azure's opt-in single-PUT uploads (S3 offers them always).
 */
export function providerAt(storage: StorageCase['name'], endpoint?: string, { singlePut = false }: { singlePut?: boolean } = {}): StorageProvider {
  if (storage === 'swift') {
    const info = inject('swift')
    return s3({
      endpoint: endpoint ?? info.endpoint,
      region: info.region,
      bucket: info.bucket,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      forcePathStyle: true,
    })
  }
  const info = inject('azurite')
  return azure({ accountName: info.accountName, accountKey: info.accountKey, container: info.container, endpoint: endpoint ?? info.endpoint, ...(singlePut ? { singlePut } : {}) })
}

/** The storage's own endpoint (where the proxy forwards). */
export function storageEndpoint(storage: StorageCase['name']): string {
  return storage === 'swift' ? inject('swift').endpoint : inject('azurite').endpoint
}

/**
 * Asserts the object at `key` is all there (its size and sha256, read back through the storage's
 * own API) and that no multipart upload is left open under it; returns it for further checks.
 * Concurrent tests pass their own `expect`.
 */
export async function expectStored(
  storage: StorageCase,
  key: string | undefined,
  expected: { size: number; sha256: string },
  check: ExpectStatic = expect,
): Promise<StoredObject> {
  check(key, 'the object key').toBeTruthy()
  const object = await storage.read(key!)
  check(object, `${key} is stored`).toBeDefined()
  check(object!.bytes.byteLength, `${key} is stored whole`).toBe(expected.size)
  check(sha256(object!.bytes), `${key} has the file's sha256`).toBe(expected.sha256)
  check(await storage.openUploads(key!), `multipart uploads left open under ${key}`).toBe(0)
  return object!
}
