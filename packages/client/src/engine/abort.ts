/**
 * Abort plumbing. Pause and cancel are distinct abort *reasons* on the same signals, so every
 * async path needs only one `AbortSignal` and still knows why it stopped.
 */
import { ValetError, isValetError } from '@valet/protocol'

/** A signal that never aborts: for work that must finish whoever stops waiting for it. */
export const NEVER: AbortSignal = new AbortController().signal

export function pauseReason(): ValetError {
  return new ValetError('paused', 'upload paused')
}

export function cancelReason(cause?: unknown): ValetError {
  return new ValetError('aborted', 'upload aborted', cause === undefined ? {} : { cause })
}

export function isPause(reason: unknown): boolean {
  return isValetError(reason) && reason.code === 'paused'
}

export function isCancel(reason: unknown): boolean {
  return isValetError(reason) && reason.code === 'aborted'
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason
}

export interface LinkedSignal {
  signal: AbortSignal
  abort(reason: unknown): void
  /** Detaches from the parents; call when done so long uploads don't pile up listeners. */
  dispose(): void
}

/**
 * A child signal that aborts when any parent does (with the parent's reason) or when `abort`
 * is called. Hand-rolled instead of `AbortSignal.any` because that one cannot be disposed and
 * is missing from browsers we still support.
 */
export function linkSignals(...parents: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController()
  const live = parents.filter((p): p is AbortSignal => p !== undefined)
  const listeners: [AbortSignal, () => void][] = []
  const dispose = (): void => {
    for (const [p, l] of listeners) p.removeEventListener('abort', l)
    listeners.length = 0
  }
  const abort = (reason: unknown): void => {
    dispose()
    if (!controller.signal.aborted) controller.abort(reason)
  }
  for (const p of live) {
    if (p.aborted) {
      abort(p.reason)
      break
    }
    const l = (): void => abort(p.reason)
    p.addEventListener('abort', l)
    listeners.push([p, l])
  }
  return { signal: controller.signal, abort, dispose }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Races a promise that can't be cancelled (a file read, say) against a signal. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}
