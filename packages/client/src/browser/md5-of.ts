/**
 * MD5 with spark-md5, shared by the hashing worker and the main-thread fallback. Results are
 * base64 (the `Content-MD5` form) so they go straight into a part's key.
 */
import SparkMD5 from 'spark-md5'
import { READ_STEP, WHOLE_READ_MAX } from './read-steps.js'

/** Bytes per step of the main-thread fallback: ~3 ms of spark-md5, well under a 50 ms task. */
export const FALLBACK_CHUNK = 512 * 1024

/** Base64 MD5 of bytes in one call. An ArrayBuffer is read in place; a view is copied by spark-md5. */
export function md5OfBytes(bytes: ArrayBuffer | Uint8Array): string {
  // Typed as ArrayBuffer, but `ArrayBuffer.hash` starts with `new Uint8Array(arg)`, which takes a view too.
  return btoa(SparkMD5.ArrayBuffer.hash(bytes as ArrayBuffer, true))
}


/** Base64 MD5 of a Blob, for a worker (it blocks while hashing: never call it on the main thread). */
export async function md5OfBlob(blob: Blob): Promise<string> {
  if (blob.size <= WHOLE_READ_MAX) return md5OfBytes(await blob.arrayBuffer())
  const spark = new SparkMD5.ArrayBuffer()
  for (let at = 0; at < blob.size; at += READ_STEP) spark.append(await blob.slice(at, Math.min(blob.size, at + READ_STEP)).arrayBuffer())
  return btoa(spark.end(true))
}

/** Gives the event loop a turn: `scheduler.yield` where it exists (it keeps priority), else a message. */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler
  if (typeof scheduler?.yield === 'function') return scheduler.yield()
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel()
      channel.port1.onmessage = () => {
        channel.port1.close()
        resolve()
      }
      channel.port2.postMessage(null)
    })
  }
  return new Promise((resolve) => setTimeout(resolve, 0))
}

/**
 * Base64 MD5 of a Blob or bytes, a chunk per task, for when no worker can run (no `Worker`, or
 * a CSP that forbids `blob:` workers): slower than a worker, but the page stays responsive.
 */
export async function md5InChunks(body: Blob | Uint8Array, signal: AbortSignal, chunk = FALLBACK_CHUNK): Promise<string> {
  const spark = new SparkMD5.ArrayBuffer()
  const size = body instanceof Uint8Array ? body.byteLength : body.size
  for (let at = 0; at < size; at += chunk) {
    if (signal.aborted) throw signal.reason
    const end = Math.min(size, at + chunk)
    if (body instanceof Uint8Array) {
      // append() copies its argument, so a view's bytes must be a buffer of their own anyway.
      spark.append(body.slice(at, end).buffer)
      if (end < size) await yieldToEventLoop()
    } else {
      // Each read resolves in a task of its own: that alone keeps the main thread free.
      spark.append(await body.slice(at, end).arrayBuffer())
    }
  }
  if (signal.aborted) throw signal.reason
  return btoa(spark.end(true))
}
