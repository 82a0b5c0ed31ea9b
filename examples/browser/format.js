// Number formatting for the upload rows: sizes in binary units, rates, and a coarse ETA.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** `268435456` → `256 MiB`. */
export function formatBytes(bytes) {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2
  // Number() drops trailing zeros: "5 MiB", not "5.00 MiB".
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`
}

/** Bytes per second → `12.3 MiB/s`; empty while unknown. */
export function formatRate(bytesPerSecond) {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : ''
}

/** Seconds → `1 min 05 s left`; empty while unknown. */
export function formatEta(seconds) {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return ''
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s left`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s left`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min left`
}

/** `8MiB`, `512KiB`, `5242880` → bytes; undefined when absent or unreadable. */
export function parseSize(text) {
  if (text === null || text === '') return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kib|mib|gib|kb|mb|gb)?\s*$/i.exec(text)
  if (!m) return undefined
  const scale = { b: 1, kib: 1024, kb: 1024, mib: 1024 ** 2, mb: 1024 ** 2, gib: 1024 ** 3, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase()]
  return Math.round(Number(m[1]) * scale)
}

/** A positive integer query parameter, or undefined. */
export function parseCount(text) {
  if (text === null || !/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n > 0 ? n : undefined
}
