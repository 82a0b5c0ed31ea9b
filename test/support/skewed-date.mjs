/**
 * Shifts one global scope's wall clock by `offsetMs`: `Date.now()`, `new Date()` and `Date()`
 * read the shifted time; `performance.now()`, timers, and dates built from a value
 * (`new Date(ms)`, `Date.parse`, `Date.UTC`) are untouched, as on a machine whose clock is
 * simply set wrong. Sets `scope.__valetClockOffsetMs` so a test can see it in force.
 *
 * Self-contained (no imports, no outside names): the Node preload calls it, and the browser test
 * ships its source to pages and Web Workers with `installSkewedDate.toString()`.
 *
 * @param {typeof globalThis} scope
 * @param {number} offsetMs
 */
export function installSkewedDate(scope, offsetMs) {
  const RealDate = scope.Date
  const realNow = RealDate.now.bind(RealDate)
  const now = () => realNow() + offsetMs
  /** `Date` with the shifted "now"; `instanceof Date` and the prototype are the real ones. */
  function SkewedDate(...args) {
    // Called as a function, Date() ignores its arguments and returns the current time as text.
    if (new.target === undefined) return new RealDate(now()).toString()
    return Reflect.construct(RealDate, args.length === 0 ? [now()] : args, new.target)
  }
  Object.defineProperties(SkewedDate, {
    prototype: { value: RealDate.prototype, writable: false },
    now: { value: now, writable: true, configurable: true },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
    name: { value: 'Date' },
    length: { value: 7 },
  })
  scope.Date = SkewedDate
  scope.__valetClockOffsetMs = offsetMs
}
