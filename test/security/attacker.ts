/**
 * The security suite's attacker: a key endpoint on real storage (the real `createValet`, its
 * `onComplete` counted), and the moves a token holder can make — create, sign, PUT with a key,
 * complete — spelled out so each test reads as the attack it tries.
 */
import { MiB, type SignedPart } from '@valet/protocol'
import type { ValetOptions } from '@valet/server'
import { generate, keyEndpoint, md5base64, sha256 } from '../support/key-endpoint.js'
import type { StorageCase } from '../support/storages.js'

export interface Upload {
  uploadId: string
  key: string
  token: string
  partSize: number
  partCount: number
}

export interface Part {
  partNumber: number
  bytes: Uint8Array
}

/** What the client keeps as a part's ETag: S3's `ETag`; Azure's Put Block has none, so the part's MD5. */
export function partEtag(res: Response, bytes: Uint8Array): string {
  return res.headers.get('etag') ?? md5base64(bytes)
}

export function attacker(storage: StorageCase, options: Partial<ValetOptions> = {}, user = 'mallory') {
  const hooks = { runs: 0 }
  const { valet, call } = keyEndpoint(storage.provider(), { onComplete: () => ({ run: ++hooks.runs }), ...options })
  const as = { 'x-user': user }
  const id = (up: Upload) => encodeURIComponent(up.uploadId)

  const create = async (size: number, more: Record<string, unknown> = {}) =>
    call('POST', '/uploads', { name: 'photo.png', size, type: 'image/png', partSize: 5 * MiB, ...more }, as)

  async function start(size: number, more: Record<string, unknown> = {}): Promise<Upload> {
    const res = await create(size, more)
    if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body as Upload
  }

  const sign = (up: Upload, parts: Part[]) =>
    call('POST', `/uploads/${id(up)}/parts`, { token: up.token, parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.bytes.length, md5: md5base64(p.bytes) })) }, as)

  async function keys(up: Upload, parts: Part[]): Promise<SignedPart[]> {
    const res = await sign(up, parts)
    if (res.status !== 200) throw new Error(`sign: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body.parts as SignedPart[]
  }

  const put = (key: SignedPart, bytes: Uint8Array, headers: Record<string, string> = {}, url = key.url) =>
    fetch(url, { method: 'PUT', headers: { ...key.headers, ...headers }, body: bytes as Uint8Array<ArrayBuffer> })

  const list = (up: Upload) => call('GET', `/uploads/${id(up)}/parts`, undefined, { ...as, 'valet-token': up.token })
  const abort = (up: Upload) => call('DELETE', `/uploads/${id(up)}`, undefined, { ...as, 'valet-token': up.token })
  const complete = (up: Upload, parts: { partNumber: number; etag: string }[]) => call('POST', `/uploads/${id(up)}/complete`, { token: up.token, parts }, as)

  /** The parts of `data` under the upload's plan. */
  const partsOf = (up: Upload, data: Uint8Array): Part[] =>
    Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, bytes: data.subarray(i * up.partSize, Math.min((i + 1) * up.partSize, data.length)) }))

  /** Signs and PUTs every part; returns the etags a client would complete with. */
  async function send(up: Upload, parts: Part[]): Promise<{ partNumber: number; etag: string }[]> {
    const signed = await keys(up, parts)
    return Promise.all(
      signed.map(async (key, i) => {
        const res = await put(key, parts[i]!.bytes)
        if (!res.ok) throw new Error(`PUT part ${key.partNumber}: ${res.status} ${await res.text()}`)
        return { partNumber: key.partNumber, etag: partEtag(res, parts[i]!.bytes) }
      }),
    )
  }

  /** A whole approved upload: its object is what later attacks must not change. */
  async function approved(size = 6 * MiB, seed = 1, more: Record<string, unknown> = {}) {
    const data = generate(size, seed)
    const up = await start(size, more)
    const etags = await send(up, partsOf(up, data))
    const done = await complete(up, etags)
    if (done.status !== 200) throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`)
    return { up, data, etags, done: done.body, sha256: sha256(data) }
  }

  return { valet, call, hooks, create, start, sign, keys, put, list, abort, complete, partsOf, send, approved }
}
