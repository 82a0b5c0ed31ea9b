/** Byte sizes as people type them on a command line: `16MiB`, `8MB`, `1.5G`, `1048576`. */

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
}

/**
 * Parses a byte size. `KB`/`MB`/`GB`/`TB` are decimal (1000ⁿ), `KiB`/`MiB`/`GiB`/`TiB` and the
 * single letters `K`/`M`/`G`/`T` are binary (1024ⁿ, as in `dd` and `curl`). Units are
 * case-insensitive; a fraction is fine as long as the result is a whole number of bytes.
 *
 * @example
 * ```ts
 * parseSize('16MiB') // 16777216
 * parseSize('8MB')   // 8000000
 * parseSize('1048576') // 1048576
 * ```
 * @throws RangeError naming the text when it is not a positive whole number of bytes.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined
  if (!match || unit === undefined) {
    throw new RangeError(`"${text}" is not a size: use a number of bytes or a unit such as 16MiB, 8MB, 512K`)
  }
  const bytes = Number(match[1]) * unit
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RangeError(`"${text}" must be a positive whole number of bytes (got ${bytes})`)
  }
  return bytes
}
