import { describe, expect, it } from 'vitest'
import { MAX_RETRY_AFTER_MS, backoffDelay, classifyEndpointFailure, classifyPartFailure, parseRetryAfter, retryDelay } from './retry-policy.js'

describe('classifyPartFailure', () => {
  it('re-signs and retries network errors, 5xx, 429, 408 and checksum mismatches', () => {
    expect(classifyPartFailure({ kind: 'network' }, false)).toBe('resign')
    expect(classifyPartFailure({ kind: 'checksum' }, false)).toBe('resign')
    for (const status of [408, 429, 500, 502, 503, 504]) expect(classifyPartFailure({ kind: 'status', status }, false)).toBe('resign')
  })

  it('re-signs a 403 on an old key or one storage calls expired; fails it on a fresh key', () => {
    expect(classifyPartFailure({ kind: 'status', status: 403 }, true)).toBe('resign')
    expect(classifyPartFailure({ kind: 'status', status: 403, body: '<Message>Request has expired</Message>' }, false)).toBe('resign')
    expect(classifyPartFailure({ kind: 'status', status: 403, body: 'Signature not valid in the specified time frame' }, false)).toBe('resign')
    expect(classifyPartFailure({ kind: 'status', status: 403, body: '<Code>SignatureDoesNotMatch</Code>' }, false)).toBe('fail')
  })

  it('retries damaged bodies (BadDigest, Md5Mismatch) and fails other 4xx', () => {
    expect(classifyPartFailure({ kind: 'status', status: 400, body: '<Code>BadDigest</Code>' }, false)).toBe('resign')
    expect(classifyPartFailure({ kind: 'status', status: 400, body: '<Code>Md5Mismatch</Code>' }, false)).toBe('resign')
    const azurite = '<Error><Code>InvalidOperation</Code><Message>Provided contentMD5 doesn\'t match.</Message></Error>'
    expect(classifyPartFailure({ kind: 'status', status: 400, body: azurite }, false)).toBe('resign')
    for (const status of [400, 401, 404, 409, 413]) expect(classifyPartFailure({ kind: 'status', status, body: 'x' }, true)).toBe('fail')
  })
})

describe('classifyEndpointFailure', () => {
  it('retries network errors, 5xx and 429; never re-signs', () => {
    expect(classifyEndpointFailure({ kind: 'network' }, 'sign')).toBe('retry')
    expect(classifyEndpointFailure({ kind: 'status', status: 502 }, 'create')).toBe('retry')
    expect(classifyEndpointFailure({ kind: 'status', status: 429 }, 'sign')).toBe('retry')
    expect(classifyEndpointFailure({ kind: 'status', status: 401 }, 'sign')).toBe('fail')
    expect(classifyEndpointFailure({ kind: 'status', status: 409 }, 'complete')).toBe('fail')
  })

  it('does not retry a 429 that is the open-upload cap (waiting does not lift it)', () => {
    expect(classifyEndpointFailure({ kind: 'status', status: 429, code: 'too_many_uploads' }, 'create')).toBe('fail')
    expect(classifyEndpointFailure({ kind: 'status', status: 429, code: 'rate_limited' }, 'create')).toBe('retry')
  })

  it("does not retry complete's 500 (the app's onComplete threw) but does retry its 502/503", () => {
    expect(classifyEndpointFailure({ kind: 'status', status: 500 }, 'complete')).toBe('fail')
    expect(classifyEndpointFailure({ kind: 'status', status: 500 }, 'sign')).toBe('retry')
    expect(classifyEndpointFailure({ kind: 'status', status: 503 }, 'complete')).toBe('retry')
  })
})

describe('backoff', () => {
  const base = { base: 500, cap: 20_000 }
  it('is full jitter under an exponential ceiling that stops at the cap', () => {
    const top = (attempt: number) => backoffDelay(attempt, { ...base, random: () => 0.999999 })
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(top)).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999])
    expect(backoffDelay(3, { ...base, random: () => 0 })).toBe(0)
    expect(backoffDelay(3, { ...base, random: () => 0.5 })).toBe(1000)
  })

  it('stays within bounds with real randomness', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, base)
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThan(4000)
    }
  })

  it('uses Retry-After on 429/503 only', () => {
    const r = { ...base, random: () => 0.5 }
    expect(retryDelay(1, { kind: 'status', status: 503 }, 7000, r)).toBe(7000)
    expect(retryDelay(1, { kind: 'status', status: 429 }, 0, r)).toBe(0)
    expect(retryDelay(1, { kind: 'status', status: 500 }, 7000, r)).toBe(250)
    expect(retryDelay(2, { kind: 'network' }, undefined, r)).toBe(500)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z')
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:59:00 GMT', now)).toBe(0)
  })
  it('ignores junk and caps absurd waits', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
    expect(parseRetryAfter('99999', now)).toBe(MAX_RETRY_AFTER_MS)
  })
})
