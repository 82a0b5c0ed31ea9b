import { describe, expect, expectTypeOf, it } from 'vitest'
import { ValetError, isValetError, type ErrorFacts } from './errors.js'
import { invalidOption } from './option-kit.js'

describe('ValetError', () => {
  it('types the context of the codes callers read, once the code is narrowed', () => {
    const caught: unknown = new ValetError('rate_limited', 'slow down', { context: { retryAfter: 3 } })
    if (!(caught instanceof ValetError)) throw new Error('expected a ValetError')
    expectTypeOf(caught.context).toExtend<ErrorFacts>()
    if (caught.code !== 'rate_limited') throw new Error('expected rate_limited')
    expectTypeOf(caught.context.retryAfter).toEqualTypeOf<number | undefined>()
    expect(caught.context.retryAfter).toBe(3)

    const bad: unknown = invalidOption('s3()', 'bucket', 'is required')
    if (isValetError(bad) && bad.code === 'invalid_option') {
      expectTypeOf(bad.context.option).toEqualTypeOf<string>()
      expect(bad.context).toEqual({ option: 'bucket', owner: 's3()' })
    }
  })

  it('refuses a typed context of the wrong shape, and keeps free facts for the other codes', () => {
    // @ts-expect-error retryAfter is a number of seconds
    void new ValetError('rate_limited', 'x', { context: { retryAfter: '3' } })
    // @ts-expect-error a code with a typed context is thrown with it
    void new ValetError('method_not_allowed', 'x')
    const free = new ValetError('part_mismatch', 'x', { context: { partNumber: 2 } })
    expect(free.context.partNumber).toBe(2)
    expect(new ValetError('not_found', 'x').context).toEqual({})
  })

  it('is still an ordinary instanceof check, also for values that are not errors', () => {
    expect(new ValetError('not_found', 'x')).toBeInstanceOf(ValetError)
    expect(new ValetError('not_found', 'x')).toBeInstanceOf(Error)
    expect(new Error('x') instanceof ValetError).toBe(false)
    expect((null as unknown) instanceof ValetError).toBe(false)
  })
})
