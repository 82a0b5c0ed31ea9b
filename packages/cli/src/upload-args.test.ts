import { describe, expect, it } from 'vitest'
import { UsageError } from './cli-args.js'
import { parseUploadArgs } from './upload-args.js'

const EP = 'http://127.0.0.1:3000/api/valet'

describe('parseUploadArgs', () => {
  it('applies the defaults', () => {
    expect(parseUploadArgs(['a.bin', '--endpoint', EP], '/work')).toEqual({
      paths: ['a.bin'],
      endpoint: EP,
      concurrency: 4,
      partSize: undefined,
      headers: {},
      stateDir: '/work/.valet/state',
      retries: 5,
      json: false,
    })
  })

  it('reads every flag', () => {
    const args = parseUploadArgs(
      ['a', 'dir', `--endpoint=${EP}`, '--concurrency', '8', '--part-size', '16MiB', '--header', 'Authorization: Bearer t',
        '--header', 'x-a:1', '--state-dir', 'st', '--retries', '0', '--json'],
      '/work',
    )
    expect(args).toMatchObject({
      paths: ['a', 'dir'],
      concurrency: 8,
      partSize: 16 * 1024 * 1024,
      headers: { authorization: 'Bearer t', 'x-a': '1' },
      stateDir: '/work/st',
      retries: 0,
      json: true,
    })
  })

  it('answers help', () => {
    expect(parseUploadArgs(['--help'], '/')).toBe('help')
    expect(parseUploadArgs(['-h', 'x'], '/')).toBe('help')
  })

  it.each([
    [['--endpoint', EP], /no file or directory/],
    [['a'], /--endpoint URL is required/],
    [['a', '--endpoint', '/api/valet'], /absolute http\(s\) URL/],
    [['a', '--endpoint', 'ftp://x/'], /absolute http\(s\) URL/],
    [['a', '--endpoint', EP, '--concurrency', '0'], /--concurrency/],
    [['a', '--endpoint', EP, '--concurrency', '65'], /--concurrency/],
    [['a', '--endpoint', EP, '--part-size', 'huge'], /--part-size/],
    [['a', '--endpoint', EP, '--header', 'nocolon'], /--header/],
    [['a', '--endpoint', EP, '--retries', '-1'], /--retries|unknown option/],
    [['a', '--endpoint', EP, '--bogus'], /unknown option --bogus/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseUploadArgs(argv, '/')).toThrow(UsageError)
    expect(() => parseUploadArgs(argv, '/')).toThrow(message)
  })
})
