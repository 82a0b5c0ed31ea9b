import { describe, expect, it } from 'vitest'
import { memoryRateLimit } from './rate-limit.js'

describe('memoryRateLimit', () => {
  it('allows a burst, then refills at the sustained rate, per principal and operation', () => {
    let t = 0
    const limit = memoryRateLimit({ create: { burst: 2, perSecond: 1 } }, () => t)
    const call = (id: string, operation: 'create' | 'sign' = 'create') => limit({ principal: { id }, operation, request: new Request('http://x') })
    expect([call('a'), call('a')]).toEqual([undefined, undefined])
    expect(call('a')).toBeCloseTo(1)
    expect(call('b')).toBeUndefined()
    expect(call('a', 'sign')).toBeUndefined()
    t = 500
    expect(call('a')).toBeCloseTo(0.5)
    t = 1000
    expect(call('a')).toBeUndefined()
  })
})
