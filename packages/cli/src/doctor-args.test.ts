import { describe, expect, it } from 'vitest'
import { UsageError } from './cli-args.js'
import { parseDoctorArgs } from './doctor-args.js'

const EP = 'http://127.0.0.1:3000/api/valet'

describe('parseDoctorArgs', () => {
  it('defaults the origin to the endpoint origin', () => {
    expect(parseDoctorArgs(['--endpoint', EP])).toEqual({ endpoint: EP, origin: 'http://127.0.0.1:3000', headers: {}, json: false })
  })

  it('reads every flag; the origin keeps scheme, host and port only', () => {
    const args = parseDoctorArgs([`--endpoint=${EP}/`, '--origin', 'https://app.example.com:8443/page?x', '--header', 'Authorization: Bearer t', '--header', 'x-a:1:2', '--json'])
    expect(args).toEqual({ endpoint: EP, origin: 'https://app.example.com:8443', headers: { authorization: 'Bearer t', 'x-a': '1:2' }, json: true })
  })

  it('returns help', () => {
    expect(parseDoctorArgs(['-h'])).toBe('help')
  })

  it.each([
    [[], /--endpoint URL is required/],
    [['--endpoint', '/api/valet'], /--endpoint must be an absolute http\(s\) URL/],
    [['--endpoint', EP, '--origin', 'ftp://x'], /--origin must be an absolute http\(s\) URL/],
    [['--endpoint', EP, '--header', 'nocolon'], /--header must look like/],
    [['--endpoint', EP, 'stray'], /unexpected argument stray/],
    [['--endpoint', EP, '--bogus'], /unknown option --bogus/],
  ])('%j is a usage error', (argv, message) => {
    const error = (() => {
      try {
        parseDoctorArgs(argv)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).message).toMatch(message)
    expect((error as UsageError).command).toBe('doctor')
  })
})
