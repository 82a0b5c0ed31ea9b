/**
 * Part manifests: what a verified download of a multipart object needs and storage does not
 * keep. S3 only shows a multipart object's ETag (MD5 of the part MD5s) and Azure shows nothing
 * per block, so at complete the server records the part size and each part's MD5 — the MD5s
 * storage itself checked at each part PUT (`Content-MD5` signed into the key) — beside the
 * object, under `.valet/manifests/`. A download uses it only while the object still has the
 * ETag it was written for.
 */
import { bareEtag, fromBase64, fromHex, partSizeOf, sameEtag, toBase64, type DownloadIntegrity } from '@valet/protocol'
import { sha256Hex } from './sha256-hex.js'
import type { RecordStore, StoredObject, StoredPartMd5 } from './storage.js'

export interface PartManifest {
  v: 1
  key: string
  etag: string
  partSize: number
  /** Base64 MD5 of each part, in part-number order. */
  parts: string[]
}

export async function manifestName(key: string): Promise<string> {
  return `manifests/${await sha256Hex(key)}.json`
}

/**
 * A part etag as a base64 MD5: S3's are quoted hex MD5s, Azure's are base64 MD5s already.
 * `undefined` for anything else (an ETag that is no MD5).
 */
export function md5OfPartEtag(etag: string): string | undefined {
  const bare = bareEtag(etag)
  if (/^[0-9a-f]{32}$/i.test(bare)) return toBase64(fromHex(bare)!)
  if (/^[A-Za-z0-9+/]{22}==$/.test(bare) && fromBase64(bare).length === 16) return bare
  return undefined
}

/**
 * The manifest of a multipart object just committed with `parts`, or `undefined` when its part
 * etags are not MD5s (S3 SSE-KMS / SSE-C): then nothing is recorded and downloads verify size
 * and ETag only.
 */
export function partManifest(key: string, object: StoredObject, partSize: number, parts: { partNumber: number; etag: string }[]): PartManifest | undefined {
  if (object.encrypted) return undefined
  const md5s: string[] = []
  for (const part of [...parts].sort((a, b) => a.partNumber - b.partNumber)) {
    const md5 = md5OfPartEtag(part.etag)
    if (md5 === undefined) return undefined
    md5s.push(md5)
  }
  return { v: 1, key, etag: object.etag, partSize, parts: md5s }
}

function isManifest(value: unknown): value is PartManifest {
  const m = value as Partial<PartManifest> | null
  return (
    typeof m === 'object' && m !== null && m.v === 1 && typeof m.key === 'string' && typeof m.etag === 'string' &&
    typeof m.partSize === 'number' && Number.isSafeInteger(m.partSize) && m.partSize > 0 &&
    Array.isArray(m.parts) && m.parts.every((p) => typeof p === 'string')
  )
}

/** The manifest recorded for `key`, if any (unreadable or foreign ones count as none). */
export async function readManifest(records: RecordStore, key: string, signal?: AbortSignal): Promise<PartManifest | undefined> {
  const text = await records.read(await manifestName(key), signal)
  if (text === undefined) return undefined
  try {
    const manifest: unknown = JSON.parse(text)
    return isManifest(manifest) && manifest.key === key ? manifest : undefined
  } catch {
    return undefined
  }
}

/** The manifest's parts, if it was written for exactly this object version and fits its size. */
export function manifestParts(manifest: PartManifest | undefined, object: StoredObject): StoredPartMd5[] | undefined {
  if (!manifest || !sameEtag(manifest.etag, object.etag)) return undefined
  const plan = { size: object.size, partSize: manifest.partSize, partCount: manifest.parts.length }
  if (plan.partCount === 0 || Math.ceil(object.size / plan.partSize) !== plan.partCount) return undefined
  return manifest.parts.map((md5, i) => ({ partNumber: i + 1, size: partSizeOf(plan, i + 1), md5 }))
}

/**
 * What a client can check the object's bytes against: part MD5s (from a manifest, or from
 * storage's own record of the parts) when they form a multipart plan of exactly the object's
 * size — every part `partSize` bytes but a shorter last one — else the MD5 storage recorded for
 * the whole object, else nothing.
 */
export function integrityOf(parts: StoredPartMd5[] | undefined, object: StoredObject): DownloadIntegrity {
  const partSize = parts?.[0]?.size ?? 0
  const plan = parts !== undefined && partSize > 0 && Math.ceil(object.size / partSize) === parts.length
  if (plan && parts.every((p, i) => p.partNumber === i + 1 && p.size === partSizeOf({ size: object.size, partSize, partCount: parts.length }, i + 1))) {
    return { kind: 'parts', partSize, parts: parts.map(({ partNumber, size, md5 }) => ({ partNumber, size, md5 })) }
  }
  return object.md5 ? { kind: 'md5', md5: object.md5 } : { kind: 'none' }
}
