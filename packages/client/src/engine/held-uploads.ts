/**
 * The multipart uploads a group of files holds open in storage (created, not yet ended): what
 * the server's `maxOpenUploads` counts. Creating ahead can reach that cap with the group's own
 * uploads; a create refused for it then waits for one of them to end instead of failing.
 */
export class HeldUploads {
  #held = 0
  readonly #waiting = new Set<() => void>()

  get count(): number {
    return this.#held
  }

  /** Counts one more; the returned function ends it (once) and wakes every waiter. */
  hold(): () => void {
    this.#held++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.#held--
      for (const wake of [...this.#waiting]) wake()
    }
  }

  /** Resolves when one held upload ends; rejects with the signal's reason if it aborts first. */
  untilOneEnds(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.#waiting.delete(done)
        signal.removeEventListener('abort', done)
        if (signal.aborted) reject(signal.reason)
        else resolve()
      }
      if (signal.aborted) return done()
      this.#waiting.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
