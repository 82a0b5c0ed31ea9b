/**
 * The unit tests' key endpoint: the real `createValet` on the in-memory provider, called
 * in-process, with JSON helpers. Principals come from the `x-user` header (`alice` by default).
 */
import { MiB } from '@valet/protocol'
import { createValetWith, type ValetInternals } from '../create-valet.js'
import type { ValetOptions } from '../options.js'
import { memoryStorage, type MemoryStorageOptions } from './memory-storage.js'

export const TEST_SECRET = 'x'.repeat(32)
/** MD5 of nothing: any well-formed MD5 will do for signing in memory. */
export const TEST_MD5 = '1B2M2Y8AsgTpgAmY7PhCfg=='

export interface TestResponse {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
  headers: Headers
}

export function testValet(extra: Partial<ValetOptions> = {}, storageOptions: MemoryStorageOptions = {}, internals: ValetInternals = {}) {
  const memory = memoryStorage(storageOptions)
  /** Opens an upload at `key` as if another attempt had started it at `initiated`. */
  const open = (uploadId: string, key: string, initiated: Date) =>
    memory.uploads.set(uploadId, { key, owner: 'alice', type: 'application/octet-stream', disposition: undefined, metadata: {}, parts: new Map(), initiated, state: 'open' })
  const openIds = () => [...memory.uploads].filter(([, u]) => u.state === 'open').map(([id]) => id)
  const valet = createValetWith(
    {
      storage: memory.storage,
      secret: TEST_SECRET,
      authorize: (req) => {
        const user = req.headers.get('x-user')
        return user ? { id: user } : null
      },
      onError: () => {},
      ...extra,
    },
    internals,
  )
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> => {
    const res = await valet.fetch(
      new Request(`http://app.test/api/valet${path}`, {
        method,
        headers: { 'x-user': 'alice', 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    )
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
  }
  const create = (size = 20 * MiB, more: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    call('POST', '/uploads', { name: 'clip.mp4', size, type: 'video/mp4', ...more }, headers)
  /** Stores every planned part (etags `"e<n>"`) of an upload created with `create`. */
  const putAll = (up: { uploadId: string; partSize: number; partCount: number }, size: number) => {
    for (let n = 1; n <= up.partCount; n++) {
      memory.put(up.uploadId, { partNumber: n, size: n < up.partCount ? up.partSize : size - up.partSize * (up.partCount - 1), etag: `"e${n}"` })
    }
    return Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, etag: `"e${i + 1}"` }))
  }
  return { ...memory, open, openIds, valet, call, create, putAll }
}
