import { describe, expect, it } from 'vitest'
import { UsageError, integerFlag, parseCommandLine, parseHeader } from './cli-args.js'

const options = { port: { type: 'string', short: 'p' }, json: { type: 'boolean' } } as const

describe('parseCommandLine', () => {
  it('parses known flags and positionals', () => {
    const { values, positionals } = parseCommandLine('x', ['a', '--port', '1', '--json', 'b'], options, true)
    expect(values).toEqual({ port: '1', json: true })
    expect(positionals).toEqual(['a', 'b'])
  })

  it.each([
    [['--nope'], 'unknown option --nope'],
    [['-z'], 'unknown option -z'],
    [['--port'], 'option --port needs a value'],
    [['-p'], 'option --port needs a value'],
    [['--port', '--json'], 'option --port needs a value'],
    [['--json=yes'], 'option --json takes no value'],
    [['stray'], 'unexpected argument stray'],
  ])('%j → UsageError "%s"', (args, message) => {
    const run = () => parseCommandLine('dev', args, options, false)
    expect(run).toThrow(UsageError)
    expect(run).toThrow(message)
    try {
      run()
    } catch (error) {
      expect((error as UsageError).command).toBe('dev')
    }
  })
})

describe('integerFlag', () => {
  it('returns the fallback when absent and the number when valid', () => {
    expect(integerFlag(undefined, 'n', 1, 9, 4)).toBe(4)
    expect(integerFlag('7', 'n', 1, 9, 4)).toBe(7)
  })
  it.each(['0', '10', '1.5', 'x', '', '-1'])('refuses %j', (value) => {
    expect(() => integerFlag(value, 'n', 1, 9, 4)).toThrow(/--n must be a whole number from 1 to 9/)
  })
})

describe('parseHeader', () => {
  it('splits at the first colon and trims', () => {
    expect(parseHeader('Authorization: Bearer a:b')).toEqual(['Authorization', 'Bearer a:b'])
    expect(parseHeader('x-empty:')).toEqual(['x-empty', ''])
  })
  it.each(['novalue', ': v', 'bad name: v'])('refuses %j', (text) => {
    expect(() => parseHeader(text)).toThrow(UsageError)
  })
})
