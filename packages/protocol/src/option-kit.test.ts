import { describe, expect, it } from 'vitest'
import { ValetError } from './errors.js'
import { OptionReader, checkStringRecord } from './option-kit.js'

function failure(fn: () => unknown): ValetError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ValetError) return error
    throw error
  }
  throw new Error('expected a throw')
}

describe('OptionReader', () => {
  it('names the owner and the option, in the message and the context', () => {
    const e = failure(() => new OptionReader('s3()', { partSize: 1.5 }).integer('partSize', { min: 1, max: 10 }))
    expect(e.code).toBe('invalid_option')
    expect(e.message).toBe('s3(): option `partSize` must be an integer from 1 to 10, got 1.5')
    expect(e.context).toEqual({ option: 'partSize', owner: 's3()' })
  })

  it('refuses unknown keys when the known ones are given, and non-objects', () => {
    expect(failure(() => new OptionReader('createUploader', { concurency: 4 }, ['concurrency'])).message).toMatch(/option `concurency` is not an option of createUploader/)
    expect(failure(() => new OptionReader('azure()', 'x')).message).toMatch(/option `options` must be an object, got "x"/)
    expect(() => new OptionReader('azure()', { extra: undefined }, [])).not.toThrow()
  })

  it('fills in fallbacks and keeps absent options absent', () => {
    const read = new OptionReader('t', {})
    expect(read.integer('n', { min: 0, max: 5, fallback: 3 })).toBe(3)
    expect(read.integer('n', { min: 0, max: 5 })).toBeUndefined()
    expect(read.string('s', { fallback: 'x' })).toBe('x')
    expect(read.boolean('b', true)).toBe(true)
    expect(read.oneOf('m', ['a', 'b'], 'a')).toBe('a')
    expect(read.strings('l')).toEqual([])
    expect(read.stringRecord('h')).toBeUndefined()
    expect(read.func('f')).toBeUndefined()
  })

  it('checks each kind', () => {
    const read = new OptionReader('t', { n: Infinity, s: ' ', b: 'yes', m: 'c', l: ['a', 1], f: 1, h: { a: 1 } })
    expect(read.integer('n', { min: 1, max: Infinity })).toBe(Infinity)
    expect(failure(() => read.integer('n', { min: 1, max: 9 })).message).toMatch(/from 1 to 9, got Infinity/)
    expect(failure(() => read.string('s')).message).toMatch(/`s` must be a non-empty string/)
    expect(read.string('s', { allowEmpty: true })).toBe(' ')
    expect(failure(() => read.string('missing', { required: true, hint: 'the bucket name' })).message).toMatch(/`missing` is required: the bucket name/)
    expect(failure(() => read.boolean('b', false)).message).toMatch(/true or false, got "yes"/)
    expect(failure(() => read.oneOf('m', ['a', 'b'], 'a')).message).toMatch(/must be 'a' or 'b', got "c"/)
    expect(failure(() => read.strings('l')).context).toEqual({ option: 'l[1]', owner: 't' })
    expect(failure(() => read.func('f', { required: true })).message).toMatch(/must be a function, got 1/)
    expect(failure(() => read.stringRecord('h')).context).toEqual({ option: 'h.a', owner: 't' })
    expect(failure(() => checkStringRecord('t', 'metadata', [])).message).toMatch(/object of strings, got an array/)
  })

  it('reads integers without an upper bound, with a reason for the bounds', () => {
    const read = new OptionReader('t', { a: 2 ** 53, b: 0, c: 7 })
    expect(failure(() => read.integer('a', { min: 1 })).message).toBe('t: option `a` must be an integer of at least 1, got 9007199254740992')
    expect(failure(() => read.integer('b', { min: 1, max: 5, hint: 'the limit' })).message).toMatch(/from 1 to 5 \(the limit\), got 0$/)
    expect(read.integer('c', { min: 1 })).toBe(7)
  })

  it('checks a string against a pattern, and never quotes a secret one', () => {
    const read = new OptionReader('t', { region: 'eu west', key: 'short secret' })
    expect(failure(() => read.string('region', { pattern: /^[a-z-]+$/, hint: 'such as "us-east-1"' })).message).toBe(
      't: option `region` must be a non-empty string (such as "us-east-1"), got "eu west"',
    )
    const e = failure(() => read.string('key', { pattern: /^[A-Z]+$/, secret: true }))
    expect(e.message).toMatch(/got a string of 12 characters$/)
    expect(e.message).not.toContain('short secret')
  })

  it('reads a nested object, naming its options parent.option', () => {
    const read = new OptionReader('s3()', { credentials: { accessKeyId: 1, tags: { a: 1 } }, list: 'x' })
    const credentials = read.nested('credentials', '{ accessKeyId }')
    expect(failure(() => credentials.string('accessKeyId', { required: true })).context).toEqual({ option: 'credentials.accessKeyId', owner: 's3()' })
    expect(failure(() => credentials.stringRecord('tags')).context).toEqual({ option: 'credentials.tags.a', owner: 's3()' })
    expect(failure(() => read.nested('list', '{ accessKeyId }')).message).toBe('s3(): option `list` must be an object { accessKeyId }, got "x"')
    expect(failure(() => read.nested('missing')).message).toMatch(/`missing` must be an object, got undefined/)
  })

  it('reads the base URL of a service', () => {
    const read = new OptionReader('t', { a: 'http://127.0.0.1:9000/s3/', b: 'localhost:9000', c: 'https://h/?sig=x', d: 'https://u:pw@h', e: ' https://h' })
    expect(read.httpUrl('a', 'https://x').href).toBe('http://127.0.0.1:9000/s3/')
    expect(read.httpUrl('absent', 'https://x.test').href).toBe('https://x.test/')
    expect(failure(() => read.httpUrl('b', 'https://x')).message).toBe('t: option `b` must be an absolute http: or https: URL, got "localhost:9000"')
    expect(failure(() => read.httpUrl('c', 'https://x')).message).toMatch(/`c` must not have a query or a fragment$/)
    expect(failure(() => read.httpUrl('d', 'https://x')).message).toMatch(/`d` must not carry credentials$/)
    expect(failure(() => new OptionReader('t', { f: 'ftp://u:pw@h' }).httpUrl('f', 'https://x')).message).not.toContain('pw')
    expect(failure(() => read.httpUrl('e', 'https://x')).message).toMatch(/`e` must be a non-empty string \(an absolute http: or https: URL\), got " https:\/\/h"$/)
  })

  it('never quotes a long string (a secret) back', () => {
    const e = failure(() => new OptionReader('t', { key: 'k'.repeat(64) }).integer('key', { min: 0, max: 1 }))
    expect(e.message).not.toContain('kkkk')
  })
})
