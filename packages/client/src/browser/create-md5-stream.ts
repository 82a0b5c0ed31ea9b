/**
 * Incremental MD5 on the page's thread for downloads. Chunks arrive from `fetch` on this thread
 * already, in pieces of tens of KiB: hashing them where they are costs well under a millisecond
 * each with hash-wasm (~460 MiB/s), less than posting them to a worker would.
 */
import { toBase64 } from '@valet/protocol'
import type { Md5Stream } from '../download/download-ports.js'

type Make = () => Promise<Md5Stream>

let choosing: Promise<Make> | undefined

/** Which MD5 {@link createMd5Stream} uses here; for tests and diagnostics. */
export async function md5StreamEngine(): Promise<'hash-wasm' | 'spark-md5'> {
  return (await choose()) === wasmStream ? 'hash-wasm' : 'spark-md5'
}

/**
 * A fresh {@link Md5Stream}: hash-wasm where WebAssembly may run, else spark-md5 (a CSP without
 * `'wasm-unsafe-eval'` refuses to compile WebAssembly; the choice is made once per page).
 *
 * @example
 * ```ts
 * const md5 = await createMd5Stream()
 * md5.update(new TextEncoder().encode('hello'))
 * md5.digest() // 'XUFAKrxLKna5cZ2REBfFkg=='
 * ```
 */
export async function createMd5Stream(): Promise<Md5Stream> {
  return (await choose())()
}

function choose(): Promise<Make> {
  choosing ??= wasmStream().then(
    () => wasmStream,
    () => sparkStream,
  )
  return choosing
}

/** hash-wasm's MD5; rejects where WebAssembly is refused. */
export async function wasmStream(): Promise<Md5Stream> {
  const { createMD5 } = await import('hash-wasm')
  // One instance per stream: ranges are hashed concurrently, each its own state.
  const hasher = await createMD5()
  hasher.init()
  return {
    update: (bytes) => void hasher.update(bytes),
    digest: () => toBase64(hasher.digest('binary')),
  }
}

/** spark-md5's, the portable path. */
export async function sparkStream(): Promise<Md5Stream> {
  const { default: SparkMD5 } = await import('spark-md5')
  const spark = new SparkMD5.ArrayBuffer()
  return {
    // spark-md5 takes an ArrayBuffer: a view of part of one is copied out.
    update: (bytes) => void spark.append(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer),
    digest: () => btoa(spark.end(true)),
  }
}
