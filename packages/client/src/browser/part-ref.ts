/**
 * A part of a browser file, by reference: the file and a byte range, no `Blob.slice` yet.
 *
 * Why not a slice: in Chromium every `Blob.slice`, and every `xhr.send(blob)`, is a synchronous
 * call into the browser process. Idle it costs ~0.5 ms; with four parts streaming out of blob
 * storage on a busy machine it was measured at 15 ms on average and up to 86 ms — long tasks
 * on the page's main thread. So parts travel through the engine as references, and only the
 * workers (hashing, sending) slice them, off the main thread.
 *
 * The engine carries part bodies without opening them; the browser's hasher and transport are
 * the only code that does.
 */

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

/**
 * What the browser's hasher and transport take: a file's parts are references; a `Blob` or bytes
 * (a fingerprint's text, a part a test builds) are hashed and sent as they are.
 */
export type BrowserBody = PartRef | Blob | Uint8Array

/** A body as something this thread can use: a Blob (slicing a reference now) or bytes. */
export function materialize(body: BrowserBody): Blob | Uint8Array {
  return isPartRef(body) ? body.toBlob() : body
}
