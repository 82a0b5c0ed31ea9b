/**
 * Runs file uploads a few at a time under one budget of part PUTs: each file gets as many slots
 * as it has parts (at most the budget), so many small files go in parallel while one large file
 * gets the whole budget, and parts in flight never exceed `--concurrency`.
 */
import { MIN_PLANNED_PART_SIZE } from '@valet/protocol'

/**
 * Parts a file is expected to have. The server may choose larger parts (fewer slots used, still
 * within budget) but never smaller ones than the planner's 5 MiB floor.
 */
export function expectedParts(size: number, partSize: number | undefined, defaultPartSize: number): number {
  const planned = Math.max(partSize ?? defaultPartSize, MIN_PLANNED_PART_SIZE)
  return Math.max(1, Math.ceil(size / planned))
}

/**
 * Starts `run(item, slots)` for each item in order, as soon as its slots are free (first come,
 * first served, so a large file is never starved by small ones behind it). Resolves when all
 * started runs settled; stops starting new ones once `stopped()` is true.
 *
 * @example
 * ```ts
 * await runWithSlots(files, 4, (f) => expectedParts(f.size, undefined, 8 << 20), (f, slots) => send(f, slots), () => false)
 * ```
 */
export async function runWithSlots<T>(
  items: readonly T[],
  capacity: number,
  need: (item: T) => number,
  run: (item: T, slots: number) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  let free = capacity
  let wake: (() => void) | undefined
  const running: Promise<void>[] = []
  for (const item of items) {
    const slots = Math.min(capacity, Math.max(1, need(item)))
    while (free < slots && !stopped()) await new Promise<void>((resolve) => (wake = resolve))
    if (stopped()) break
    free -= slots
    running.push(
      run(item, slots)
        .catch(() => {})
        .finally(() => {
          free += slots
          wake?.()
        }),
    )
  }
  await Promise.all(running)
}
