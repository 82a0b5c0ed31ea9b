/**
 * Block ids and part etags of the Azure provider.
 *
 * A block id is base64 of a fixed 63-byte ASCII string `PPPPP.UUUU….MMMM…`:
 *   - `PPPPP`: part number, 5 digits (Azure allows 50,000 blocks),
 *   - `UUUU…`: the upload id as 32 hex digits, so two uploads to one blob never mix blocks,
 *   - `MMMM…`: the part's base64 MD5 (24 characters) that the key was signed for.
 * Every id has the same length, as Azure requires for all blocks of a blob, and stays under its
 * 64-byte limit; 63 bytes encode to 84 base64 characters without padding.
 *
 * Carrying the MD5 in the id lets Get Block List (which returns only names and sizes) report a
 * content hash per part, the Azure equivalent of an S3 part ETag: the part etag is the part's
 * base64 MD5, exactly the `Content-MD5` value the client sent and Put Block echoes back.
 */
import { ValetError, bareEtag, fromHex, toBase64 } from '@valet/protocol'

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const MD5_BASE64 = /^[A-Za-z0-9+/]{22}==$/
const MD5_HEX = /^[0-9a-fA-F]{32}$/
const RAW_BLOCK_ID = /^(\d{5})\.([0-9a-f]{32})\.([A-Za-z0-9+/]{22}==)$/
/** Highest part number a block id can carry: Azure's block count limit. */
export const MAX_PART_NUMBER = 50_000

/**
 * The one byte of the block `abort` commits on a staging blob. Its id is part number 0, which no
 * part can have, so listings never mistake it for a part; it has the same length as every part's
 * id, as Azure requires of all blocks of one blob.
 */
export const MARKER_BODY = 'v'
/** Base64 MD5 of {@link MARKER_BODY}, sent as its `Content-MD5`. */
export const MARKER_MD5 = 'njZp0ZtnW9VwWP1GZCBdKg=='

export function isUploadId(value: string): boolean {
  return UPLOAD_ID.test(value)
}

function uploadHex(uploadId: string): string {
  return uploadId.replace(/-/g, '')
}

/** The base64 block id of part `partNumber` of `uploadId` with content MD5 `md5` (base64). */
export function encodeBlockId(uploadId: string, partNumber: number, md5: string): string {
  if (!isUploadId(uploadId)) throw new ValetError('upload_not_found', 'not an Azure upload id', { context: { uploadId } })
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new ValetError('invalid_part', `part number must be between 1 and ${MAX_PART_NUMBER}`, { context: { partNumber } })
  }
  if (!MD5_BASE64.test(md5)) throw new ValetError('invalid_part', 'md5 must be a base64 MD5 digest', { context: { partNumber } })
  return btoa(`${String(partNumber).padStart(5, '0')}.${uploadHex(uploadId)}.${md5}`)
}

/** The id of the marker block of `uploadId` (see {@link MARKER_BODY}). */
export function markerBlockId(uploadId: string): string {
  if (!isUploadId(uploadId)) throw new ValetError('upload_not_found', 'not an Azure upload id', { context: { uploadId } })
  return btoa(`00000.${uploadHex(uploadId)}.${MARKER_MD5}`)
}

export interface DecodedBlockId {
  partNumber: number
  /** 32 hex digits (the upload id without dashes). */
  uploadHex: string
  md5: string
}

/** Reads a block id written by {@link encodeBlockId}; `undefined` for any other block. */
export function decodeBlockId(blockId: string): DecodedBlockId | undefined {
  let raw: string
  try {
    raw = atob(blockId)
  } catch {
    return undefined
  }
  const m = RAW_BLOCK_ID.exec(raw)
  if (!m) return undefined
  const partNumber = Number(m[1])
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER) return undefined
  return { partNumber, uploadHex: m[2]!, md5: m[3]! }
}

/** Whether a decoded block belongs to `uploadId`. */
export function belongsTo(block: DecodedBlockId, uploadId: string): boolean {
  return block.uploadHex === uploadHex(uploadId)
}

/**
 * The MD5 a client's part etag names, as base64. Accepts the base64 form (the `Content-MD5`
 * header value, what `listParts` returns) and, for clients that pass S3 habits along, 32 hex
 * digits; either may be quoted or marked weak, as any ETag (`bareEtag`). `undefined` when it is neither.
 */
export function md5FromEtag(etag: string): string | undefined {
  const bare = bareEtag(etag)
  if (MD5_BASE64.test(bare)) return bare
  const bytes = MD5_HEX.test(bare) ? fromHex(bare) : undefined
  return bytes === undefined ? undefined : toBase64(bytes)
}
