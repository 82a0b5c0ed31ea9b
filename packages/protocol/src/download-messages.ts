/**
 * Wire messages of downloads (issue 16): open a download, then ask for read keys for byte
 * ranges. Times are ISO 8601 strings; sizes and offsets are bytes; MD5s are base64.
 */

/** `POST /downloads` body. */
export interface OpenDownloadRequest {
  /** The object key, exactly as the upload answered it. */
  key: string
}

/**
 * How a client can check every byte it reads:
 * - `parts`: Valet uploaded the object in parts and kept their MD5s (a manifest written at
 *   complete, for exactly this ETag). Part `n` covers `[(n-1)·partSize, min(n·partSize, size))`.
 * - `md5`: storage recorded the MD5 of the whole object (S3 single PUT, Azure `Content-MD5`).
 * - `none`: nothing to check bytes against; the client checks size and ETag only, and says so.
 */
export type DownloadIntegrity =
  | { kind: 'parts'; partSize: number; parts: { partNumber: number; size: number; md5: string }[] }
  | { kind: 'md5'; md5: string }
  | { kind: 'none' }

/** `200` answer to `POST /downloads`. */
export interface OpenDownloadResponse {
  key: string
  size: number
  /** The object version the token (and every read key signed with it) is bound to. */
  etag: string
  /** `Content-Type` as stored; `application/octet-stream` when storage has none. */
  type: string
  /** The download token: an HMAC-signed claim sent back with every range request. */
  token: string
  /** When the token expires. */
  expiresAt: string
  integrity: DownloadIntegrity
}

/** A byte range, `end` exclusive: `[start, end)`. */
export interface ByteRange {
  start: number
  end: number
}

/** `POST /downloads/ranges` body (at most {@link MAX_READ_RANGES} ranges). */
export interface SignRangesRequest {
  token: string
  ranges: ByteRange[]
}

/** A read key: everything needed to GET one range of one object version straight from storage. */
export interface SignedRange extends ByteRange {
  url: string
  method: 'GET'
  /** Headers the request must carry exactly (`Range`, `If-Match`, provider-specific ones). */
  headers: Record<string, string>
  /** When storage stops accepting a request that *starts* with this key. */
  expiresAt: string
}

/** `200` answer to `POST /downloads/ranges`. */
export interface SignRangesResponse {
  ranges: SignedRange[]
  /** The server's clock, so clients can correct for skew. */
  serverTime: string
}

/** Most ranges one `POST /downloads/ranges` call may ask keys for. */
export const MAX_READ_RANGES = 100
