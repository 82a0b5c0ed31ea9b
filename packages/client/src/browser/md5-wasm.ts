/**
 * MD5 in WebAssembly (hash-wasm) for the hashing workers: ~4× spark-md5 in Chromium, which
 * makes hashing stop being what limits a browser upload. WebAssembly may be refused (a CSP
 * without `'wasm-unsafe-eval'`, an old engine): then {@link loadWasmMd5} resolves `undefined`
 * and the worker keeps spark-md5, the portable path.
 */
import { toBase64 } from '@valet/protocol'
import { createMD5, type IHasher } from 'hash-wasm'
import { READ_STEP, WHOLE_READ_MAX } from './read-steps.js'


export interface WasmMd5 {
  /** Base64 MD5 of bytes. */
  bytes(data: ArrayBuffer): Promise<string>
  /** Base64 MD5 of a Blob, read in steps. */
  blob(blob: Blob): Promise<string>
}

let loading: Promise<WasmMd5 | undefined> | undefined

/** The WebAssembly MD5, compiled once per worker; `undefined` where WebAssembly can't run. */
export function loadWasmMd5(): Promise<WasmMd5 | undefined> {
  loading ??= createMD5().then(
    (first) => wrap(first),
    () => undefined,
  )
  return loading
}

function wrap(first: IHasher): WasmMd5 {
  // One instance per hash in flight: a worker hashes one part at a time, but a dropped (aborted)
  // hash may still be reading when the next one starts, and the two must not share state.
  const free: IHasher[] = [first]
  const take = async (): Promise<IHasher> => free.pop() ?? (await createMD5())
  return {
    async bytes(data) {
      const hasher = await take()
      try {
        return toBase64(hasher.init().update(new Uint8Array(data)).digest('binary'))
      } finally {
        free.push(hasher)
      }
    },
    async blob(blob) {
      const hasher = await take()
      try {
        hasher.init()
        if (blob.size <= WHOLE_READ_MAX) hasher.update(new Uint8Array(await blob.arrayBuffer()))
        else for (let at = 0; at < blob.size; at += READ_STEP) hasher.update(new Uint8Array(await blob.slice(at, Math.min(blob.size, at + READ_STEP)).arrayBuffer()))
        return toBase64(hasher.digest('binary'))
      } finally {
        free.push(hasher)
      }
    },
  }
}
