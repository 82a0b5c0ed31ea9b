import { describe, expect, it } from 'vitest'
import { downloadCorsProblems, downloadRequestHeaders, evaluatePartAnswer, headerList, isExposed, originProblem, preflightProblems, storageKind } from './doctor-cors.js'

const ORIGIN = 'http://localhost:5173'
const PUT = { origin: ORIGIN, method: 'PUT', headers: ['content-md5', 'content-type'] }

describe('CORS header evaluation', () => {
  it('splits header lists, lower-cased, without blanks', () => {
    expect(headerList(' ETag, x-Amz-Request-Id ,,')).toEqual(['etag', 'x-amz-request-id'])
    expect(headerList(undefined)).toEqual([])
  })

  it('accepts the exact origin or *, nothing else', () => {
    expect(originProblem({ 'access-control-allow-origin': ORIGIN }, ORIGIN)).toBeUndefined()
    expect(originProblem({ 'access-control-allow-origin': '*' }, ORIGIN)).toBeUndefined()
    expect(originProblem({}, ORIGIN)).toMatch(/no Access-Control-Allow-Origin/)
    expect(originProblem({ 'access-control-allow-origin': `${ORIGIN}/` }, ORIGIN)).toMatch(/is "http:\/\/localhost:5173\/", not/)
    expect(originProblem({ 'access-control-allow-origin': 'https://a.test, http://localhost:5173' }, ORIGIN)).toBeDefined()
  })

  it('passes a preflight that allows origin, PUT and the headers (Swift-style echo)', () => {
    const answer = { 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': 'GET, HEAD, PUT, POST', 'access-control-allow-headers': 'content-md5, content-type' }
    expect(preflightProblems(PUT, 200, answer)).toEqual([])
    expect(preflightProblems(PUT, 204, { ...answer, 'access-control-allow-methods': '*', 'access-control-allow-headers': '*' })).toEqual([])
  })

  it('names each refused part of a 2xx preflight', () => {
    const problems = preflightProblems(PUT, 200, { 'access-control-allow-origin': 'https://other.test', 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-md5' })
    expect(problems).toEqual([
      'Access-Control-Allow-Origin is "https://other.test", not http://localhost:5173',
      'PUT is not in Access-Control-Allow-Methods (get, post)',
      'Access-Control-Allow-Headers lacks content-type',
    ])
  })

  it('stops at a non-2xx preflight, as browsers do', () => {
    expect(preflightProblems(PUT, 403, {})).toEqual(['the preflight was answered 403, not 2xx'])
  })

  it('does not need safelisted methods listed; * does not cover authorization', () => {
    const answer = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }
    expect(preflightProblems({ origin: ORIGIN, method: 'POST', headers: ['content-type'] }, 204, answer)).toEqual([])
    expect(preflightProblems({ origin: ORIGIN, method: 'POST', headers: ['authorization', 'content-type'] }, 204, answer)).toEqual([
      'Access-Control-Allow-Headers lacks authorization',
    ])
  })

  it('exposes safelisted headers always, others when listed or *', () => {
    expect(isExposed({}, 'content-length')).toBe(true)
    expect(isExposed({}, 'etag')).toBe(false)
    expect(isExposed({ 'access-control-expose-headers': 'x-a, ETag' }, 'etag')).toBe(true)
    expect(isExposed({ 'access-control-expose-headers': '*' }, 'etag')).toBe(true)
  })

  it('tells storages apart by URL and answer', () => {
    expect(storageKind('http://s3.test/b/k?X-Amz-Signature=a&partNumber=1')).toBe('s3')
    expect(storageKind('http://s3.test/b/k?X-Amz-Signature=a', { 'x-trans-id': 'tx1' })).toBe('swift')
    expect(storageKind('http://a.blob.test/c/k?comp=block&sv=2025-05-05&sig=x')).toBe('azure')
    expect(storageKind('http://x.test/k', { 'x-ms-request-id': 'r' })).toBe('azure')
    expect(storageKind('http://x.test/k')).toBe('unknown')
  })
})

describe('evaluatePartAnswer', () => {
  const s3 = { etag: '"9dd4e461268c8034f5c8564e155c67a6"', 'access-control-allow-origin': ORIGIN }

  it('S3: ok when ETag is readable, fail when not exposed or the answer is unreadable', () => {
    expect(evaluatePartAnswer({ ...s3, 'access-control-expose-headers': 'x-amz-request-id, ETag' }, ORIGIN).status).toBe('ok')
    expect(evaluatePartAnswer({ ...s3, 'access-control-expose-headers': 'x-amz-request-id' }, ORIGIN)).toMatchObject({ status: 'fail', message: expect.stringMatching(/ETag is not in Access-Control-Expose-Headers/) })
    expect(evaluatePartAnswer({ etag: '"x"', 'access-control-expose-headers': 'etag' }, ORIGIN)).toMatchObject({ status: 'fail', message: expect.stringMatching(/network error/) })
  })

  it('Azure Put Block (no ETag): ok with etag exposed, warn when only Content-MD5 / x-ms-* are, fail when nothing is', () => {
    const azure = { 'x-ms-request-id': 'r', 'x-ms-version': '2025-05-05', 'access-control-allow-origin': '*' }
    expect(evaluatePartAnswer({ ...azure, 'access-control-expose-headers': 'x-ms-request-id,etag,content-md5' }, ORIGIN).status).toBe('ok')
    expect(evaluatePartAnswer({ ...azure, 'access-control-expose-headers': 'x-ms-request-id,x-ms-version' }, ORIGIN)).toMatchObject({ status: 'warn', message: expect.stringMatching(/x-ms-request-id/) })
    expect(evaluatePartAnswer(azure, ORIGIN)).toMatchObject({ status: 'fail', message: expect.stringMatching(/cannot tell the part was stored/) })
  })
})

describe('downloadCorsProblems', () => {
  const allow = { status: 200, headers: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': 'GET, PUT', 'access-control-allow-headers': 'if-match, range' } }
  const exposed = { 'access-control-allow-origin': ORIGIN, 'access-control-expose-headers': 'ETag, Content-Range' }

  it('asks for the headers the ranged GET of each storage carries', () => {
    expect(downloadRequestHeaders('s3')).toEqual(['if-match', 'range'])
    expect(downloadRequestHeaders('swift')).toEqual(['if-match', 'range'])
    expect(downloadRequestHeaders('azure')).toEqual(['if-match', 'x-ms-range', 'x-ms-version'])
  })

  it('passes GET allowed with Range and If-Match, ETag and Content-Range exposed', () => {
    expect(downloadCorsProblems(ORIGIN, ['if-match', 'range'], allow, exposed)).toEqual([])
    expect(downloadCorsProblems(ORIGIN, ['if-match', 'range'], allow, { ...exposed, 'access-control-expose-headers': '*' })).toEqual([])
  })

  it('names the headers the preflight refuses and those not exposed', () => {
    const refused = { status: 200, headers: { ...allow.headers, 'access-control-allow-headers': 'range' } }
    expect(downloadCorsProblems(ORIGIN, ['if-match', 'range'], refused, { 'access-control-allow-origin': '*' })).toEqual([
      'preflight GET (if-match, range): Access-Control-Allow-Headers lacks if-match',
      'ETag and Content-Range are not in Access-Control-Expose-Headers (absent)',
    ])
    expect(downloadCorsProblems(ORIGIN, ['if-match', 'range'], allow, { 'access-control-expose-headers': 'etag' })).toEqual([
      'Content-Range is not in Access-Control-Expose-Headers (etag)',
    ])
  })

  it('reports a refused or unanswered preflight, and skips exposure without a readable answer', () => {
    expect(downloadCorsProblems(ORIGIN, ['if-match', 'range'], { status: 403, headers: {} }, undefined)).toEqual(['preflight GET (if-match, range): the preflight was answered 403, not 2xx'])
    expect(downloadCorsProblems(ORIGIN, ['if-match'], { status: 0, headers: {}, error: 'ECONNREFUSED' }, undefined)).toEqual(['no answer to the preflight GET: ECONNREFUSED'])
  })
})
