/** The handle of one upload, batch or download: its control, tied to the caller's signal, settled when the work ends. */

export interface Controllable<S> {
  readonly status: S
  pause(): void
  resume(): void
  abort(cause?: unknown): void
}

/** Ties a control to the caller's signal (abort, not pause), starts the work, and hands out the handle. */
export function controlled<S, T>(control: Controllable<S>, signal: AbortSignal | undefined, start: () => Promise<T>) {
  const onAbort = (): void => control.abort(signal?.reason)
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  const done = start()
  done.finally(() => signal?.removeEventListener('abort', onAbort)).catch(() => {})
  return {
    done,
    get status(): S {
      return control.status
    },
    pause: () => control.pause(),
    resume: () => control.resume(),
    abort: () => control.abort(),
  }
}

/** Settles `control` when `work` ends on its own (complete or failed), so later pause/abort calls do nothing. */
export function settling<T>(control: { settle(status: 'complete' | 'failed'): void }, work: Promise<T>): Promise<T> {
  return work.then(
    (result) => {
      control.settle('complete')
      return result
    },
    (error: unknown) => {
      control.settle('failed')
      throw error
    },
  )
}
