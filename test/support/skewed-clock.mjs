/**
 * A wrong wall clock for a whole Node process: `node --import <this file>` (or
 * `NODE_OPTIONS=--import=<file URL>`) with `VALET_TEST_CLOCK_OFFSET_MS` set, e.g. 600000 for a
 * clock 10 minutes fast, -600000 for 10 minutes slow. See `skewed-date.mjs` for what moves
 * (`Date`) and what doesn't (`performance.now()`, timers).
 *
 * Plain JavaScript, not TypeScript: Node loads it before anything else, with no transform.
 */
import { installSkewedDate } from './skewed-date.mjs'

const raw = process.env.VALET_TEST_CLOCK_OFFSET_MS ?? '0'
const offset = Number(raw)
if (!Number.isFinite(offset)) throw new Error(`VALET_TEST_CLOCK_OFFSET_MS must be a number of ms, got "${raw}"`)
installSkewedDate(globalThis, offset)
