import type { BlockBlobClient } from '@azure/storage-blob'
import { sameEtag } from '@valet/protocol'
import type { ReadPartsInput, StoredPartMd5 } from '../storage.js'
import { decodeBlockId } from './block-id.js'
import { isBlobMissing, toValetError } from './errors.js'

/**
 * The parts of a Valet multipart object, from its committed block list: complete copies the
 * staging blob to the key, blocks included, and every block id carries its part's MD5 — the
 * `Content-MD5` storage checked at Put Block (block-id.ts). Only a list that is exactly parts
 * 1..n of one upload counts; anything else (Put Blob, another writer's blocks) is `undefined`,
 * and so is a blob whose ETag is no longer `etag`.
 */
export async function readParts(blob: BlockBlobClient, { etag, signal }: ReadPartsInput): Promise<StoredPartMd5[] | undefined> {
  let list: Awaited<ReturnType<BlockBlobClient['getBlockList']>>
  try {
    list = await blob.getBlockList('committed', { abortSignal: signal })
  } catch (error) {
    if (!signal?.aborted && isBlobMissing(error)) return undefined
    throw toValetError(error, 'Get Block List', { signal, context: { key: blob.name } })
  }
  if (!list.etag || !sameEtag(list.etag, etag)) return undefined
  const blocks = list.committedBlocks ?? []
  const parts: StoredPartMd5[] = []
  let upload: string | undefined
  for (const [i, block] of blocks.entries()) {
    const id = decodeBlockId(block.name)
    if (!id || id.partNumber !== i + 1 || (upload !== undefined && id.uploadHex !== upload)) return undefined
    upload = id.uploadHex
    parts.push({ partNumber: id.partNumber, size: block.size, md5: id.md5 })
  }
  return parts.length > 0 ? parts : undefined
}
