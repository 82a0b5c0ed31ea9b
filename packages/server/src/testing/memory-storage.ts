/**
 * A storage provider held in memory, for unit tests of the core and of clients: it keeps the
 * provider contract (write-once commits, upload states, conditional records) so tests exercise
 * the real `createValet` rather than a second implementation of the routes. Real storage is
 * exercised in test/. Not part of the public API.
 */
import { ValetError, s3Limits, sameEtag, type SignedPart, type StoredPart } from '@valet/protocol'
import { multipartEtag } from '../multipart-etag.js'
import type { CommitRef, RecordStore, SinglePutProvider, StorageLimits, StorageProvider, StoredObject, UploadRef } from '../storage.js'
import { memoryPartUrl } from './memory-part-url.js'
import { memoryReadUrl } from './memory-read-url.js'

export interface MemoryUpload {
  key: string
  owner: string
  type: string
  disposition: string | undefined
  metadata: Record<string, string>
  parts: Map<number, StoredPart>
  initiated: Date
  state: 'open' | 'completed' | 'aborted'
}

export interface MemoryStorage {
  storage: StorageProvider
  /** Uploads by id, ended ones included. */
  uploads: Map<string, MemoryUpload>
  /** Committed objects by key, with the upload that committed them. */
  objects: Map<string, StoredObject & { uploadId: string }>
  records: Map<string, string>
  /** `create`, `sign:N`, `list`, `state`, `complete`, `abort`, `find`, `count`, `stat`, `record:<op>`, `read:<start>-<end>`, in order. */
  calls: string[]
  /** Stores a part as if a client had PUT it with a key. */
  put(uploadId: string, part: StoredPart): void
  /**
   * Stores a whole object as a client's single PUT would: `false` (and nothing written) when an
   * object is there and the store is conditional, as S3 answers 412.
   */
  putObject(key: string, uploadId: string, object: { size: number; md5: string; etag: string }): boolean
  /** Whether single PUTs are write-once (`If-None-Match: *` signed in). */
  readonly conditionalPut: boolean
}

export interface MemoryStorageOptions {
  limits?: Partial<StorageLimits>
  /** Whether record creation is atomic (false: look, then write, like Swift s3api 2.30). */
  conditionalRecords?: boolean
  /** Sign read keys (downloads); `false` leaves `signRead` out, like a provider without it. */
  signRead?: boolean
  /** Answer `findUploads` (S3-like); `false` leaves it out (Azure-like). */
  findUploads?: boolean
  /**
   * Where part URLs and object locations point (see memory-part-url.ts): a fake storage that
   * takes PUTs there.
   * @default 'http://storage.invalid'
   */
  baseUrl?: string
  /**
   * Single-PUT uploads: `true` (write-once, like AWS), `'unconditional'` (no If-None-Match, like
   * Swift s3api 2.30: only keys unique to an upload), `false` (multipart only, like before).
   * @default true
   */
  singlePut?: boolean | 'unconditional'
}

export function memoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const uploads = new Map<string, MemoryUpload>()
  const objects = new Map<string, StoredObject & { uploadId: string }>()
  const records = new Map<string, string>()
  const calls: string[] = []
  const baseUrl = options.baseUrl ?? 'http://storage.invalid'
  let n = 0

  const upload = (ref: UploadRef): MemoryUpload => {
    const u = uploads.get(ref.uploadId)
    if (!u || u.key !== ref.key || u.state === 'aborted') {
      throw new ValetError('upload_not_found', `upload ${ref.uploadId} does not exist (completed, aborted or expired)`)
    }
    return u
  }
  const committedBy = (ref: CommitRef): StoredObject | undefined => {
    const object = objects.get(ref.key)
    if (!object) return undefined
    if (object.uploadId !== ref.uploadId) throw new ValetError('object_exists', `an object already exists at ${ref.key}`)
    const expected = multipartEtag(ref.parts.map((p) => p.etag))
    if (expected !== undefined && !sameEtag(expected, object.etag)) throw new ValetError('object_exists', `another commit of ${ref.key} exists`)
    const { uploadId: _, ...rest } = object
    return rest
  }

  const recordStore: RecordStore = {
    conditional: options.conditionalRecords ?? true,
    async create(name, body) {
      calls.push('record:create')
      if (records.has(name)) return false
      records.set(name, body)
      return true
    },
    async read(name) {
      calls.push('record:read')
      return records.get(name)
    },
    async write(name, body) {
      calls.push('record:write')
      records.set(name, body)
    },
    async remove(name) {
      calls.push('record:remove')
      records.delete(name)
    },
  }

  const singlePut = options.singlePut ?? true
  const conditionalPut = singlePut === true
  // The object a single PUT wrote, described as a store would: S3's ETag of a single PUT.
  const pending = new Map<string, { type: string; disposition: string | undefined; metadata: Record<string, string> }>()
  const single: SinglePutProvider | undefined =
    singlePut === false
      ? undefined
      : {
      async sign(input) {
        calls.push('signObject')
        if (!conditionalPut && !input.unique) return undefined
        pending.set(input.key, { type: input.type, disposition: input.disposition, metadata: { ...input.metadata } })
        const url = memoryPartUrl(baseUrl, { ...input, partNumber: 1, expiresAt: input.expiresAt.getTime() })
        const headers: Record<string, string> = { 'Content-MD5': input.md5 }
        if (conditionalPut) headers['If-None-Match'] = '*'
        return { partNumber: 1, url, method: 'PUT', headers, expiresAt: input.expiresAt.toISOString() }
      },
      async remove({ key, etag }) {
        calls.push('removeObject')
        const object = objects.get(key)
        if (object && sameEtag(object.etag, etag)) objects.delete(key)
      },
    }

  const storage: StorageProvider = {
    ...(single ? { singlePut: single } : {}),
    name: 'memory',
    limits: { ...s3Limits, maxMetadataCount: 16, maxMetadataValueBytes: 256, maxMetadataBytes: 1536, ...options.limits },
    records: recordStore,
    async create({ key, owner, type, disposition, metadata, signal }) {
      signal?.throwIfAborted()
      calls.push('create')
      const uploadId = `up-${++n}`
      uploads.set(uploadId, { key, owner, type, disposition, metadata, parts: new Map(), initiated: new Date(Date.now() + n), state: 'open' })
      return { uploadId }
    },
    async signPart(input): Promise<SignedPart> {
      calls.push(`sign:${input.partNumber}`)
      upload(input)
      const url = memoryPartUrl(baseUrl, { ...input, expiresAt: input.expiresAt.getTime() })
      return { partNumber: input.partNumber, url, method: 'PUT', headers: { 'Content-MD5': input.md5 }, expiresAt: input.expiresAt.toISOString() }
    },
    async signRead({ key, etag, start, end, expiresAt }) {
      calls.push(`read:${start}-${end}`)
      const url = memoryReadUrl(baseUrl, { key, etag, start, end, expiresAt: expiresAt.getTime() })
      return { start, end, url, method: 'GET', headers: { Range: `bytes=${start}-${end - 1}`, 'If-Match': etag }, expiresAt: expiresAt.toISOString() }
    },
    async listParts(ref) {
      calls.push('list')
      const u = upload(ref)
      if (u.state !== 'open' && !objects.has(ref.key)) throw new ValetError('upload_not_found', `upload ${ref.uploadId} is gone`)
      return [...u.parts.values()].sort((a, b) => a.partNumber - b.partNumber)
    },
    async uploadState(ref) {
      calls.push('state')
      if (objects.has(ref.key)) return 'completed'
      const u = uploads.get(ref.uploadId)
      return !u || u.state === 'aborted' ? 'aborted' : 'open'
    },
    async findCommitted(ref) {
      calls.push('findCommitted')
      return committedBy(ref)
    },
    async stat({ key }) {
      calls.push('stat')
      const object = objects.get(key)
      if (!object) return undefined
      const { uploadId: _, ...rest } = object
      return rest
    },
    async complete(ref) {
      calls.push('complete')
      const u = upload(ref)
      const earlier = committedBy(ref)
      if (earlier) return earlier
      const size = ref.parts.reduce((sum, p) => sum + (u.parts.get(p.partNumber)?.size ?? 0), 0)
      const etag = multipartEtag(ref.parts.map((p) => p.etag)) ?? `"memory-${ref.parts.length}"`
      const object = { etag, size, location: `${baseUrl}/${encodeURI(ref.key)}`, type: u.type, disposition: u.disposition, metadata: { ...u.metadata } }
      objects.set(ref.key, { ...object, uploadId: ref.uploadId })
      u.state = 'completed'
      return object
    },
    async abort(ref) {
      calls.push('abort')
      const u = uploads.get(ref.uploadId)
      if (u && u.state === 'open') u.state = 'aborted'
    },
    async findUploads({ key }) {
      calls.push('find')
      return [...uploads].filter(([, u]) => u.key === key && u.state === 'open').map(([uploadId, u]) => ({ uploadId, initiated: u.initiated }))
    },
    async countOpenUploads({ owner, limit }) {
      calls.push('count')
      return Math.min(limit, [...uploads.values()].filter((u) => u.owner === owner && u.state === 'open').length)
    },
  }
  if (options.findUploads === false) delete storage.findUploads
  if (options.signRead === false) delete storage.signRead

  return {
    storage,
    uploads,
    objects,
    records,
    calls,
    conditionalPut,
    putObject(key, uploadId, { size, md5, etag }) {
      if (objects.has(key) && conditionalPut) return false
      const meta = pending.get(key) ?? { type: 'application/octet-stream', disposition: undefined, metadata: {} }
      objects.set(key, { etag, md5, size, location: `${baseUrl}/${encodeURI(key)}`, ...meta, metadata: { ...meta.metadata }, uploadId })
      return true
    },
    put(uploadId, part) {
      const u = uploads.get(uploadId)
      if (!u) throw new Error(`no upload ${uploadId}`)
      u.parts.set(part.partNumber, part)
    },
  }
}
