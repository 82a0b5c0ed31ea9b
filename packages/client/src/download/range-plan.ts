/**
 * How a download is cut into ranges, and what each can be checked against. Objects Valet
 * uploaded in parts are fetched part by part, so every range has the MD5 storage verified when
 * that part was written; others in equal ranges.
 */
import { ValetError, autoPartSize, base64ToHex, bareEtag, fromBase64, type ByteRange, type OpenDownloadResponse } from '@valet/protocol'
import type { Md5Stream } from './download-ports.js'
import type { DownloadVerification } from './create-downloader.js'

export interface RangePlan {
  ranges: ByteRange[]
  /** Equal ranges of this size, or the part size for part-aligned ranges: stored with the state. */
  rangeSize: number
  /** Base64 MD5 per range (part-aligned plans only). */
  md5s: (string | undefined)[]
  /** Base64 MD5 of the whole object, checked once every range is in (`md5` integrity). */
  wholeMd5: string | undefined
  verified: DownloadVerification
}

function equalRanges(size: number, rangeSize: number): ByteRange[] {
  const ranges: ByteRange[] = []
  for (let start = 0; start < size; start += rangeSize) ranges.push({ start, end: Math.min(size, start + rangeSize) })
  return ranges
}

/** Plans the ranges of an opened download. */
export function planRanges(opened: OpenDownloadResponse, rangeSize: number | undefined): RangePlan {
  const { size, integrity } = opened
  if (integrity.kind === 'parts') {
    let start = 0
    const ranges = integrity.parts.map((p) => {
      const range = { start, end: start + p.size }
      start += p.size
      return range
    })
    if (start !== size || integrity.parts.some((p, i) => p.partNumber !== i + 1 || (i < integrity.parts.length - 1 && p.size !== integrity.partSize))) {
      throw new ValetError('server_error', `the key endpoint's part list for "${opened.key}" does not add up to its ${size} bytes`, { context: { key: opened.key } })
    }
    return { ranges, rangeSize: integrity.partSize, md5s: integrity.parts.map((p) => p.md5), wholeMd5: undefined, verified: 'parts' }
  }
  const step = rangeSize ?? autoPartSize(size)
  const ranges = equalRanges(size, step)
  if (integrity.kind === 'md5') {
    // One range: its MD5 is the object's, checked as it streams, with no read-back.
    const md5s = ranges.length === 1 ? [integrity.md5] : ranges.map(() => undefined)
    return { ranges, rangeSize: step, md5s, wholeMd5: ranges.length === 1 ? undefined : integrity.md5, verified: 'md5' }
  }
  return { ranges, rangeSize: step, md5s: ranges.map(() => undefined), wholeMd5: undefined, verified: 'size-etag' }
}

/**
 * On S3 a multipart object's ETag is `hex(md5(md5₁ ‖ … ‖ md5ₙ))-n`: recomputing it from the part
 * MD5s the key endpoint gave proves they are the ones storage holds for this object, not just
 * what the manifest says. Other ETags (Azure's) carry no such relation: nothing to check.
 */
export async function checkMultipartEtag(opened: OpenDownloadResponse, md5: () => Promise<Md5Stream>): Promise<void> {
  if (opened.integrity.kind !== 'parts') return
  const m = /^([0-9a-f]{32})-(\d+)$/i.exec(bareEtag(opened.etag))
  if (m === null) return
  const parts = opened.integrity.parts
  const hash = await md5()
  for (const p of parts) hash.update(fromBase64(p.md5))
  const computed = base64ToHex(hash.digest())
  if (Number(m[2]) !== parts.length || computed !== (m[1] as string).toLowerCase()) {
    throw new ValetError('checksum_mismatch', `the part MD5s the key endpoint gave for "${opened.key}" do not make its ETag ${opened.etag} (they make ${computed}-${parts.length})`, {
      context: { key: opened.key, etag: opened.etag },
    })
  }
}
