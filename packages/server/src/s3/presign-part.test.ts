import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MAX_PRESIGN_SECONDS, presignPart, presignRead } from './presign-part.js'
import { normalizeS3Options, type S3Options } from './s3-options.js'

const md5 = 'XUFAKrxLKna5cZ2REBfFkg=='
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const NOW = Date.parse('2024-05-24T10:20:30.400Z')

function options(extra: Partial<S3Options> = {}) {
  return normalizeS3Options({ region: 'eu-west-1', bucket: 'uploads', credentials, ...extra })
}

function sign(extra: Partial<S3Options> = {}, input: Partial<Parameters<typeof presignPart>[1]> = {}, now = NOW) {
  return presignPart(
    options(extra),
    { uploadId: 'up+id/1=', key: "u1/a b/é(1)!.bin", owner: 'u1', partNumber: 3, size: 5_242_880, md5, expiresAt: new Date(now + 900_000), ...input },
    now,
  )
}

// An independent SigV4 query-auth verifier (AWS "Authenticating Requests: Using Query
// Parameters"), so the test does not trust aws4fetch's canonicalization.
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest()

function expectedSignature(url: URL, headers: Record<string, string>, secret: string, method = 'PUT'): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature')
  const query = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const path = url.pathname.split('/').map((s) => enc(decodeURIComponent(s))).join('/')
  const all: Record<string, string> = { ...headers, host: url.host }
  const names = url.searchParams.get('X-Amz-SignedHeaders')!.split(';')
  const canonical = [method, path, query, ...names.map((n) => `${n}:${all[n]}`), '', names.join(';'), 'UNSIGNED-PAYLOAD'].join('\n')
  const date = url.searchParams.get('X-Amz-Date')!
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/')
  const [day, region, service] = scope.split('/') as [string, string, string]
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request')
  return createHmac('sha256', key).update(['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n')).digest('hex')
}

describe('presignPart', () => {
  it('returns a PUT key carrying Content-MD5, for the part asked', async () => {
    const part = await sign()
    expect(part).toMatchObject({ partNumber: 3, method: 'PUT', headers: { 'Content-MD5': md5 } })
    expect(Object.keys(part.headers)).toEqual(['Content-MD5'])
  })

  it('signs host, content-length and content-md5 with query auth and an unsigned payload', async () => {
    const url = new URL((await sign()).url)
    const q = url.searchParams
    expect(q.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host')
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256')
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240524/eu-west-1/s3/aws4_request')
    expect(q.get('X-Amz-Date')).toBe('20240524T102030Z')
    expect(q.get('partNumber')).toBe('3')
    expect(q.get('uploadId')).toBe('up+id/1=')
    expect(q.has('X-Amz-Content-Sha256')).toBe(false)
    expect(q.has('x-amz-content-sha256')).toBe(false)
    expect(q.has('X-Amz-Security-Token')).toBe(false)
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
  })

  it('produces the signature an independent SigV4 implementation expects', async () => {
    const url = new URL((await sign()).url)
    const signature = expectedSignature(url, { 'content-length': '5242880', 'content-md5': md5 }, credentials.secretAccessKey)
    expect(url.searchParams.get('X-Amz-Signature')).toBe(signature)
  })

  it('binds the signature to part number, upload, size and MD5', async () => {
    const a = new URL((await sign()).url).searchParams.get('X-Amz-Signature')
    for (const change of [{ partNumber: 4 }, { uploadId: 'other' }, { size: 5_242_881 }, { md5: '1B2M2Y8AsgTpgAmY7PhCfg==' }, { key: 'u1/other' }]) {
      expect(new URL((await sign({}, change)).url).searchParams.get('X-Amz-Signature')).not.toBe(a)
    }
  })

  it('addresses the object path-style or virtual-hosted, key encoded once', async () => {
    expect((await sign()).url).toMatch(/^https:\/\/uploads\.s3\.eu-west-1\.amazonaws\.com\/u1\/a%20b\/%C3%A9%281%29%21\.bin\?/)
    const swift = await sign({ endpoint: 'http://127.0.0.1:8080', forcePathStyle: true })
    const url = new URL(swift.url)
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:8080/uploads/u1/a%20b/%C3%A9%281%29%21.bin')
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, { 'content-length': '5242880', 'content-md5': md5 }, credentials.secretAccessKey),
    )
  })

  it('puts a session token in the signed query', async () => {
    const url = new URL((await sign({ credentials: { ...credentials, sessionToken: 'FQo+token/=' } })).url)
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('FQo+token/=')
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, { 'content-length': '5242880', 'content-md5': md5 }, credentials.secretAccessKey),
    )
  })

  describe('expiry', () => {
    const expiry = async (expiresAt: number, now = NOW) => {
      const part = await sign({}, { expiresAt: new Date(expiresAt) }, now)
      return { seconds: new URL(part.url).searchParams.get('X-Amz-Expires'), expiresAt: part.expiresAt }
    }

    it('derives X-Amz-Expires from expiresAt, counted from the signing second', async () => {
      // Signed at 10:20:30 (X-Amz-Date has no milliseconds): 900.4 s → 901 s, so the key lives
      // at least until the requested instant and reports when it really dies.
      expect(await expiry(NOW + 900_000)).toEqual({ seconds: '901', expiresAt: '2024-05-24T10:35:31.000Z' })
      const whole = Date.parse('2024-05-24T10:20:30.000Z')
      expect(await expiry(whole + 900_000, whole)).toEqual({ seconds: '900', expiresAt: '2024-05-24T10:35:30.000Z' })
      expect(await expiry(NOW + 1000)).toEqual({ seconds: '2', expiresAt: '2024-05-24T10:20:32.000Z' })
    })

    it('never signs less than 1 s, even for a past expiresAt', async () => {
      expect(await expiry(NOW - 60_000)).toEqual({ seconds: '1', expiresAt: '2024-05-24T10:20:31.000Z' })
      expect(await expiry(NaN)).toEqual({ seconds: '1', expiresAt: '2024-05-24T10:20:31.000Z' })
    })

    it('clamps to the 7-day SigV4 maximum and reports the clamped expiry', async () => {
      const r = await expiry(NOW + 30 * 86_400_000)
      expect(r.seconds).toBe(String(MAX_PRESIGN_SECONDS))
      expect(r.expiresAt).toBe('2024-05-31T10:20:30.000Z')
    })

    it('signs X-Amz-Expires (it is not aws4fetch\'s 86400 default)', async () => {
      const url = new URL((await sign()).url)
      expect(url.searchParams.getAll('X-Amz-Expires')).toEqual(['901'])
      expect(url.searchParams.get('X-Amz-Signature')).toBe(
        expectedSignature(url, { 'content-length': '5242880', 'content-md5': md5 }, credentials.secretAccessKey),
      )
    })
  })
})

describe('presignRead', () => {
  it('signs a GET of one range of one object version: host, if-match and range', async () => {
    const read = await presignRead(options(), { key: 'u1/x/a b.bin', etag: '"9b2cf535f27731c974343645a3985328-3"', start: 5, end: 105, expiresAt: new Date(NOW + 60_000) }, NOW)
    expect(read).toMatchObject({ start: 5, end: 105, method: 'GET', headers: { Range: 'bytes=5-104', 'If-Match': '"9b2cf535f27731c974343645a3985328-3"' } })
    const url = new URL(read.url)
    expect(url.pathname).toBe('/u1/x/a%20b.bin')
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;if-match;range')
    // Counted from the signing second: NOW is 400 ms into it.
    expect(url.searchParams.get('X-Amz-Expires')).toBe('61')
    const headers = { 'if-match': read.headers['If-Match']!, range: read.headers.Range! }
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, headers, credentials.secretAccessKey, 'GET'))
  })
})
