import { describe, expect, it } from 'vitest'
import { UsageError } from './cli-args.js'
import { keyBasename, parseDownloadArgs } from './download-args.js'

const EP = 'http://127.0.0.1:3000/api/valet'

describe('parseDownloadArgs', () => {
  it('--fsync asks for files flushed to disk before the rename', () => {
    expect(parseDownloadArgs(['k', '--endpoint', 'http://127.0.0.1:3000/api/valet', '--fsync'], '/w')).toMatchObject({ fsync: true })
  })

  it('applies the defaults: out is the working directory, state dir the downloader\'s', () => {
    expect(parseDownloadArgs(['dev/1/a.bin', '--endpoint', EP], '/work')).toEqual({
      targets: [{ key: 'dev/1/a.bin', path: '/work/a.bin', display: 'a.bin' }],
      endpoint: EP,
      out: '/work',
      concurrency: 4,
      headers: {},
      stateDir: undefined,
      retries: 5,
      fsync: false,
      json: false,
    })
  })

  it('reads every flag', () => {
    const args = parseDownloadArgs(
      ['dev/1/a.bin', 'b.txt', `--endpoint=${EP}`, '--out', 'got', '--concurrency', '8', '--header', 'Authorization: Bearer t',
        '--header', 'x-a:1', '--state-dir', 'st', '--retries', '0', '--json'],
      '/work',
    )
    expect(args).toMatchObject({
      targets: [
        { key: 'dev/1/a.bin', path: '/work/got/a.bin', display: 'got/a.bin' },
        { key: 'b.txt', path: '/work/got/b.txt', display: 'got/b.txt' },
      ],
      out: '/work/got',
      concurrency: 8,
      headers: { authorization: 'Bearer t', 'x-a': '1' },
      stateDir: '/work/st',
      retries: 0,
      json: true,
    })
  })

  it('downloads a key given twice once', () => {
    const args = parseDownloadArgs(['dev/1/a.bin', 'dev/1/a.bin', '--endpoint', EP], '/w')
    expect(args !== 'help' && args.targets.map((t) => t.key)).toEqual(['dev/1/a.bin'])
  })

  it('refuses two keys that would write the same file, naming both and the file', () => {
    expect(() => parseDownloadArgs(['dev/1/a.bin', 'dev/2/a.bin', '--endpoint', EP, '--out', 'got'], '/w')).toThrow(
      'keys "dev/1/a.bin" and "dev/2/a.bin" would both be written to got/a.bin: download them in separate runs with different --out folders',
    )
  })

  it('answers help', () => {
    expect(parseDownloadArgs(['--help'], '/')).toBe('help')
    expect(parseDownloadArgs(['-h', 'x'], '/')).toBe('help')
  })

  it('takes the last segment of a key as the file name', () => {
    expect(keyBasename('dev/0b6f/report.pdf')).toBe('report.pdf')
    expect(keyBasename('report.pdf')).toBe('report.pdf')
    expect(keyBasename('dev/0b6f/')).toBe('')
  })

  it.each([
    [['--endpoint', EP], /no key given/],
    [['a'], /--endpoint URL is required/],
    [['a', '--endpoint', '/api/valet'], /absolute http\(s\) URL/],
    [['a', '--endpoint', 'ftp://x/'], /absolute http\(s\) URL/],
    [['a', '--endpoint', EP, '--concurrency', '0'], /--concurrency/],
    [['a', '--endpoint', EP, '--concurrency', '65'], /--concurrency/],
    [['a', '--endpoint', EP, '--header', 'nocolon'], /--header/],
    [['a', '--endpoint', EP, '--retries', 'x'], /--retries/],
    [['a', '--endpoint', EP, '--out', ''], /--out needs a folder/],
    [['a', '--endpoint', EP, '--bogus'], /unknown option --bogus/],
    [['dev/1/', '--endpoint', EP], /does not end in a file name/],
    [['dev/1/..', '--endpoint', EP], /does not end in a file name/],
    [['a\nb', '--endpoint', EP], /control character/],
    [['x'.repeat(1025), '--endpoint', EP], /1 to 1024 characters/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseDownloadArgs(argv, '/')).toThrow(UsageError)
    expect(() => parseDownloadArgs(argv, '/')).toThrow(message)
  })
})
