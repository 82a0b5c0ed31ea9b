/**
 * Ctrl+C (SIGINT) and SIGTERM for the transfer commands: the first pauses what runs (state kept
 * for a rerun) and ends the command with 130 or 143; a second one exits at once, because the user
 * does not want to wait for anything.
 */
import { EXIT } from './cli-io.js'

export interface Interrupt {
  /** Resolves with the exit code once a signal came (never resolves otherwise). */
  readonly stopped: Promise<number>
  /** The exit code, once a signal came. */
  readonly code: number | undefined
  /** Stops listening (the command is over). */
  dispose(): void
}

/**
 * Listens for SIGINT and SIGTERM until disposed; `onInterrupt` runs once, at the first.
 *
 * @example
 * ```ts
 * const interrupt = catchInterrupt(() => batch.pause())
 * try { return await Promise.race([finished, interrupt.stopped]) } finally { interrupt.dispose() }
 * ```
 */
export function catchInterrupt(onInterrupt: (code: number) => void): Interrupt {
  let code: number | undefined
  let resolve!: (code: number) => void
  const stopped = new Promise<number>((r) => (resolve = r))
  const onSignal = (signal: NodeJS.Signals): void => {
    if (code !== undefined) process.exit(code)
    code = signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint
    onInterrupt(code)
    resolve(code)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    stopped,
    get code() {
      return code
    },
    dispose() {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    },
  }
}
