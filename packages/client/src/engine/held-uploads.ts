/**
 * The multipart uploads a group of files holds open in storage (created, not yet ended): what
 * the server's `maxOpenUploads` counts. Creating ahead can reach that cap with the group's own
 * uploads; a create refused for it then waits for one of them to end instead of failing.
 *
 * A refusal can arrive out of step with what it counted: one of ours may have ended since the
 * server answered (the refusal is stale), or a create of ours answered in the same batch may not
 * have taken its hold yet. {@link HeldUploads.afterRefusal} sorts these out.
 */
export class HeldUploads {
  #held = 0
  #ended = 0
  #creating = 0
  readonly #waiting = new Set<() => void>()

  /** How many held uploads have ended so far: read before a create is sent, see {@link afterRefusal}. */
  get ended(): number {
    return this.#ended
  }

  /** Counts one more; the returned function ends it (once) and wakes every waiter. */
  hold(): () => void {
    this.#held++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.#held--
      this.#ended++
      this.#wake()
    }
  }

  /**
   * Counts a create in flight (it may become a hold); the returned function says it settled,
   * after its hold if it took one, and wakes every waiter.
   */
  creating(): () => void {
    this.#creating++
    let settled = false
    return () => {
      if (settled) return
      settled = true
      this.#creating--
      this.#wake()
    }
  }

  /**
   * After a create (sent when {@link ended} read `endedBefore`, now settled) was refused for the
   * cap: resolves `true` when it is worth asking again (one of ours ended since it was sent),
   * `false` when the cap is someone else's (nothing of ours is open or about to be). Rejects with
   * the signal's reason if it aborts first.
   */
  async afterRefusal(endedBefore: number, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.#ended !== endedBefore) return true
      if (this.#held === 0 && this.#creating === 0) return false
      // Ours are open (wait for one to end), or another create of ours is still settling.
      await this.#untilChange(signal)
    }
  }

  #wake(): void {
    for (const wake of [...this.#waiting]) wake()
  }

  #untilChange(signal: AbortSignal): Promise<void> {
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
