/**
 * A part of a browser file, by reference: the file and a byte range, no `Blob.slice` yet.
 *
 * Why not a slice: in Chromium every `Blob.slice`, and every `xhr.send(blob)`, is a synchronous
 * call into the browser process. Idle it costs ~0.5 ms; with four parts streaming out of blob
 * storage on a busy machine it was measured at 15 ms on average and up to 86 ms — long tasks
 * on the page's main thread. So parts travel through the engine as references, and only the
 * workers (hashing, sending) slice them, off the main thread.
 *
 * The engine treats a part body as opaque apart from `size`; the browser's hasher and transport
 * are the only code that opens one.
 */
import type { PartBody } from '../ports.js'

export class PartRef {
  constructor(
    readonly file: Blob,
    readonly start: number,
    readonly end: number,
  ) {}

  get size(): number {
    return this.end - this.start
  }

  /** The real slice, for code that must hand a Blob to a browser API on this thread. */
  toBlob(): Blob {
    return this.file.slice(this.start, this.end)
  }
}

export function isPartRef(body: unknown): body is PartRef {
  return body instanceof PartRef
}

/** Presents a reference as a part body: see the class comment for why this is sound here. */
export function asPartBody(ref: PartRef): PartBody {
  return ref as unknown as PartBody
}

/** A part body as something this thread can use: a Blob (slicing a reference now) or bytes. */
export function materialize(body: PartBody | PartRef): Blob | Uint8Array {
  return isPartRef(body) ? body.toBlob() : body
}
