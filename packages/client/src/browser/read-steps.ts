/**
 * How the hashing workers read a part, whichever MD5 they run: one read is cheaper than several,
 * but a worker must never hold a huge part, so larger parts are read in steps.
 */

/** Parts up to this size are read in one go. */
export const WHOLE_READ_MAX = 16 * 1024 * 1024
/** Larger parts are read in steps of this size. */
export const READ_STEP = 4 * 1024 * 1024
