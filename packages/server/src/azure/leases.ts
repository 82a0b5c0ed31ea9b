/**
 * A valet key is a SAS with `w` on a staging blob, and `w` includes Lease Blob: a key holder can
 * take an infinite lease, after which every write the server makes with the account key fails
 * with 412 until the lease is broken. Breaking needs no lease id with the account key.
 */
import type { BlobClient } from '@azure/storage-blob'
import { statusOf } from './errors.js'

/** A key holder can re-acquire between our break and our retry; a few rounds, then give up. */
const MAX_BREAKS = 3

/**
 * Runs `write` (a request on `blob` with the account key); when it fails with 412 and the blob has
 * a lease, breaks the lease at once and runs `write` again. Any other failure is rethrown as is,
 * so a 412 from a condition the caller set (If-None-Match, If-Match) still reaches the caller.
 */
export async function withLeaseBroken<T>(blob: BlobClient, signal: AbortSignal | undefined, write: () => Promise<T>): Promise<T> {
  for (let breaks = 0; ; breaks++) {
    try {
      return await write()
    } catch (error) {
      if (breaks >= MAX_BREAKS || statusOf(error) !== 412 || signal?.aborted) throw error
      if (!(await breakLease(blob, signal))) throw error
    }
  }
}

/** `true` when a lease was broken; `false` when there was none to break (the 412 was something else). */
async function breakLease(blob: BlobClient, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await blob.getBlobLeaseClient().breakLease(0, { abortSignal: signal })
    return true
  } catch (error) {
    // 409: no lease (or already broken); 404: no blob. Either way a lease was not the problem.
    const status = statusOf(error)
    if (status === 409 || status === 404) return false
    throw error
  }
}
