/** Bytes hashed from each end of in-memory data for its resume fingerprint: cheap, and enough to tell files apart. */
export const SAMPLE_BYTES = 64 * 1024

/** The first and last {@link SAMPLE_BYTES} of `size` bytes, as `[start, end)` ranges (one when they'd overlap). */
export function sampleRanges(size: number): [number, number][] {
  if (size <= 2 * SAMPLE_BYTES) return [[0, size]]
  return [
    [0, SAMPLE_BYTES],
    [size - SAMPLE_BYTES, size],
  ]
}
