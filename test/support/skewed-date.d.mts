/** Shifts `scope`'s wall clock (`Date`) by `offsetMs`; see skewed-date.mjs. */
export declare function installSkewedDate(scope: typeof globalThis, offsetMs: number): void
