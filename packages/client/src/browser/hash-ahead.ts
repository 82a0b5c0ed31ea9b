/**
 * Hash-ahead: the engine asks for part MD5s one at a time (a sign window is hashed in order, to
 * bound memory), which would leave all workers but one idle. Parts of a file are read in order,
 * so when part n is asked for, the next few parts start hashing on the other workers, and the
 * engine finds their MD5 ready when it gets there. Memory stays at one part per worker.
 */
import { NEVER, raceSignal } from '../engine/abort.js'
import type { Hasher } from '../ports.js'
import { PartRef, isPartRef, type BrowserBody } from './part-ref.js'

/** Parts smaller than this (tiny files) are not worth guessing ahead for. */
const MIN_PART = 1024 * 1024

export interface HashAheadOptions {
  /** Parts hashed ahead of the one asked for: about the workers free besides it. */
  ahead: number
}

interface Pending {
  end: number
  md5: Promise<string>
}

/** Wraps a hasher (the worker pool) with hash-ahead for {@link PartRef} parts. */
export function withHashAhead(inner: Hasher<BrowserBody>, options: HashAheadOptions): Hasher<BrowserBody> {
  // Per file: range start → the MD5 of [start, end), started ahead and not asked for yet.
  const ready = new WeakMap<Blob, Map<number, Pending>>()

  const guess = (part: PartRef, pending: Map<number, Pending>): void => {
    const { file, start, end } = part
    const length = end - start
    for (let k = 0, at = end; k < options.ahead && at < file.size; k++, at += length) {
      if (pending.has(at)) continue
      const stop = Math.min(file.size, at + length)
      // Not tied to the asking upload's signal: a pause must not throw away work nearly done.
      const md5 = inner.md5(new PartRef(file, at, stop), NEVER)
      md5.catch(() => pending.delete(at))
      pending.set(at, { end: stop, md5 })
    }
  }

  return {
    md5(body: BrowserBody, signal: AbortSignal): Promise<string> {
      const part = body
      if (!isPartRef(part) || part.size < MIN_PART) return inner.md5(body, signal)
      let pending = ready.get(part.file)
      if (pending === undefined) ready.set(part.file, (pending = new Map()))
      const hit = pending.get(part.start)
      let md5: Promise<string>
      if (hit !== undefined && hit.end === part.end) {
        md5 = raceSignal(hit.md5, signal)
        // Forgotten once delivered; an ask that was paused meanwhile leaves it for the next ask.
        const table = pending
        md5.then(() => table.get(part.start) === hit && table.delete(part.start), () => {})
      } else {
        md5 = inner.md5(body, signal)
      }
      // Guesses behind this part won't be asked for in this pass (a resume or a retry may).
      if (pending.size > 4 * options.ahead) for (const at of pending.keys()) if (at < part.start) pending.delete(at)
      guess(part, pending)
      return md5
    },
  }
}
