import { describe, expect, it } from 'vitest'
import { parseSize } from './parse-size.js'

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['16MiB', 16 * 1024 ** 2],
    ['16mib', 16 * 1024 ** 2],
    ['8MB', 8_000_000],
    ['512K', 512 * 1024],
    ['2KB', 2000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['1G', 1024 ** 3],
    ['1TiB', 1024 ** 4],
    ['100B', 100],
    [' 5 MiB ', 5 * 1024 ** 2],
  ])('%s → %d', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each(['', 'abc', '16XB', '-1', '0', '0MiB', '1.5', '0.3B', 'MiB', '1e6', '1,000'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(RangeError)
  })

  it('names the text in its message', () => {
    expect(() => parseSize('12 parsecs')).toThrow(/"12 parsecs"/)
  })
})
