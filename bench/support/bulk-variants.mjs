// The bulk scenario's variants and file sets (issue 15): many small files, valet against the
// plain PutObject loop a Node script would otherwise write, at the same concurrency.
export const BULK_VARIANTS = {
  sdk: { label: 'SDK PutObject loop', how: 'child', reference: true },
  'sdk-verified': { label: 'SDK Put+HeadObject loop', how: 'child' },
  'valet-cli': { label: 'valet upload (CLI)', how: 'cli' },
  'valet-api': { label: 'valet upload() loop', how: 'child' },
  'valet-many': { label: 'valet uploadMany', how: 'child' },
}

// The two targets: 1,000 × 256 KiB at ≥ 0.9× the SDK loop, 10,000 × 4 KiB at ≥ 0.8×.
export const DEFAULT_BULK_SETS = '1000x256,10000x4'
export const BULK_TARGETS = { 256: { files: 1000, ratio: 0.9 }, 4: { files: 10000, ratio: 0.8 } }

/** `'1000x256,10000x4'` → [{ files, kib, size, set }] (sizes in KiB). */
export function parseBulkSets(text) {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+)\s*[x×]\s*(\d+)$/i.exec(s)
      const files = m ? Number(m[1]) : NaN
      const kib = m ? Number(m[2]) : NaN
      if (!(files > 0 && kib > 0)) throw new Error(`--bulk-sets: "${s}" is not COUNTxKiB, e.g. 1000x256`)
      return { files, kib, size: kib * 1024, set: `${files} × ${kib} KiB` }
    })
}
