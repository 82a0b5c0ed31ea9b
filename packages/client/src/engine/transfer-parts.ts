/**
 * Sends a set of parts with at most `concurrency` PUTs in flight. The first part failure stops
 * the others and is what the caller sees, after everything in flight has settled.
 */
import pLimit from 'p-limit'
import { linkSignals } from './abort.js'
import { uploadPart, type PartContext } from './upload-part.js'

export interface TransferContext<B> extends PartContext<B> {
  concurrency: number
  /** Parts not started yet, in order; the key cache reads it to pick its window. */
  notStarted: Set<number>
  /** Called as each part is stored and its etag verified. */
  onPartStored(partNumber: number, etag: string): void
}

/**
 * Uploads `parts` (ascending). Rejects with `signal.reason` when the caller aborts (pause or
 * cancel), else with the first part's error.
 */
export async function transferParts<B>(ctx: TransferContext<B>, parts: number[], signal: AbortSignal): Promise<void> {
  const run = linkSignals(signal)
  const limit = pLimit(ctx.concurrency)
  ctx.notStarted.clear()
  for (const n of parts) ctx.notStarted.add(n)
  let firstError: unknown
  let failed = false
  const tasks = parts.map((n) =>
    limit(async () => {
      // Queued parts still run after a failure, but only to return at once: clearing p-limit's
      // queue would leave their promises pending forever.
      if (run.signal.aborted) return
      ctx.notStarted.delete(n)
      ctx.onPartStored(n, await uploadPart(ctx, n, run.signal))
    }).catch((e: unknown) => {
      if (failed || run.signal.aborted) return
      failed = true
      firstError = e
      run.abort(e)
    }),
  )
  await Promise.all(tasks)
  run.dispose()
  if (signal.aborted) throw signal.reason
  if (failed) throw firstError
}
