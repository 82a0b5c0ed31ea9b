/**
 * Pause, resume and abort of one upload. Pause aborts the running transfer with a pause reason
 * and keeps everything; abort aborts everything with a cancel reason. Both are plain abort
 * reasons, so the engine below needs nothing but `AbortSignal`s.
 */
import { cancelReason, linkSignals, pauseReason, type LinkedSignal } from './abort.js'

export type UploadStatus = 'running' | 'paused' | 'complete' | 'failed' | 'aborted'

export class UploadControl {
  private readonly cancelController = new AbortController()
  private transfer: LinkedSignal | undefined
  private waiters: (() => void)[] = []
  private current: UploadStatus = 'running'

  get status(): UploadStatus {
    return this.current
  }

  /** Aborts on `abort()` (and the user's signal) only: creating, completing and cleanup listen to it. */
  get cancelSignal(): AbortSignal {
    return this.cancelController.signal
  }

  pause(): void {
    if (this.current !== 'running') return
    this.current = 'paused'
    this.transfer?.abort(pauseReason())
  }

  resume(): void {
    if (this.current !== 'paused') return
    this.current = 'running'
    this.wake()
  }

  abort(cause?: unknown): void {
    if (this.current === 'complete' || this.current === 'failed' || this.current === 'aborted') return
    this.current = 'aborted'
    this.cancelController.abort(cancelReason(cause))
    this.wake()
  }

  /** The upload ended on its own: later pause/abort calls do nothing. */
  settle(status: 'complete' | 'failed'): void {
    if (this.current !== 'aborted') this.current = status
  }

  /** Resolves once not paused; rejects with the cancel reason if aborted meanwhile. */
  async untilRunning(): Promise<void> {
    while (this.current === 'paused') await new Promise<void>((resolve) => this.waiters.push(resolve))
    if (this.cancelController.signal.aborted) throw this.cancelController.signal.reason
  }

  /**
   * The signal of one transfer run: aborted by pause or abort. Call `dispose` on the result when
   * the run ends.
   */
  transferSignal(): LinkedSignal {
    const linked = linkSignals(this.cancelController.signal)
    // A pause that landed between untilRunning() and here must still stop this run.
    if (this.current === 'paused') linked.abort(pauseReason())
    this.transfer = linked
    return linked
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/**
 * Pause, resume and abort of many uploads (`uploadMany`): each file has its own
 * {@link UploadControl}, and the group passes its state on to every live one.
 */
export class GroupControl {
  private readonly cancelController = new AbortController()
  private readonly members = new Set<UploadControl>()
  private waiters: (() => void)[] = []
  private current: 'running' | 'paused' | 'aborted' = 'running'

  get status(): 'running' | 'paused' | 'aborted' {
    return this.current
  }

  /** Aborts on `abort()` only: batch calls and waits for a turn listen to it. */
  get cancelSignal(): AbortSignal {
    return this.cancelController.signal
  }

  /** A control for one more file, in the group's current state. */
  join(): UploadControl {
    const control = new UploadControl()
    if (this.current === 'paused') control.pause()
    if (this.current === 'aborted') control.abort()
    this.members.add(control)
    return control
  }

  leave(control: UploadControl): void {
    this.members.delete(control)
  }

  pause(): void {
    if (this.current !== 'running') return
    this.current = 'paused'
    for (const m of this.members) m.pause()
  }

  resume(): void {
    if (this.current !== 'paused') return
    this.current = 'running'
    for (const m of this.members) m.resume()
    this.wake()
  }

  abort(cause?: unknown): void {
    if (this.current === 'aborted') return
    this.current = 'aborted'
    this.cancelController.abort(cancelReason(cause))
    for (const m of this.members) m.abort(cause)
    this.wake()
  }

  /** Resolves once not paused (at once when aborted: the caller checks). */
  async untilRunning(): Promise<void> {
    while (this.current === 'paused') await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
