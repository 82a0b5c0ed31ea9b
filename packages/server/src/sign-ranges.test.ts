import { describe, expect, it } from 'vitest'
import { toBase64Url } from '@valet/protocol'
import { readMemoryReadUrl } from './testing/memory-read-url.js'
import { testValet } from './testing/test-valet.js'

const KEY = 'alice/u1/clip.mp4'

/** An object at KEY (committed by another upload) and a download opened on it. */
async function opened(extra: Parameters<typeof testValet>[0] = {}, internals: Parameters<typeof testValet>[2] = {}) {
  let allowed = true
  const t = testValet({ canRead: () => allowed, ...extra }, {}, internals)
  t.objects.set(KEY, { etag: '"v1"', size: 1000, location: `x/${KEY}`, type: 'video/mp4', disposition: undefined, metadata: {}, uploadId: 'other' })
  const open = await t.call('POST', '/downloads', { key: KEY })
  expect(open.status, JSON.stringify(open.body)).toBe(200)
  const ranges = (ranges: unknown, token: string = open.body.token, headers: Record<string, string> = {}) => t.call('POST', '/downloads/ranges', { token, ranges }, headers)
  return { t, token: open.body.token as string, ranges, revoke: () => (allowed = false) }
}

function tamper(token: string, edit: (claim: Record<string, unknown>) => void): string {
  const [kind, claims, mac] = token.split('.')
  const claim = JSON.parse(Buffer.from(claims!, 'base64url').toString())
  edit(claim)
  return `${kind}.${toBase64Url(new TextEncoder().encode(JSON.stringify(claim)))}.${mac}`
}

describe('POST /downloads/ranges', () => {
  it('signs one read key per range, bound to the key, range and etag, expiring with keyTtl', async () => {
    const { t, ranges } = await opened({ keyTtl: 60 })
    t.calls.length = 0
    const res = await ranges([{ start: 0, end: 400 }, { start: 400, end: 1000 }])
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.ranges).toHaveLength(2)
    expect(res.body.ranges[1]).toMatchObject({ start: 400, end: 1000, method: 'GET', headers: { Range: 'bytes=400-999', 'If-Match': '"v1"' } })
    expect(readMemoryReadUrl('http://storage.invalid', res.body.ranges[0].url)).toMatchObject({ key: KEY, etag: '"v1"', start: 0, end: 400 })
    const ttl = Date.parse(res.body.ranges[0].expiresAt) - Date.parse(res.body.serverTime)
    expect(ttl).toBe(60_000)
    // No storage call: the token carries what the keys need.
    expect(t.calls).toEqual(['read:0-400', 'read:400-1000'])
  })


  it('keys never outlive the token', async () => {
    let now = Date.now()
    const { ranges } = await opened({ keyTtl: 900, tokenTtl: 1000 }, { now: () => now })
    now += 500_000
    const res = await ranges([{ start: 0, end: 1 }])
    const tokenLeft = Date.parse(res.body.ranges[0].expiresAt) - now
    expect(tokenLeft).toBeLessThanOrEqual(500_000)
    expect(tokenLeft).toBeGreaterThan(499_000)
  })

  it('validates ranges: 1–100, end exclusive, 0 ≤ start < end ≤ size', async () => {
    const { ranges, t } = await opened()
    t.calls.length = 0
    const bad = [[], Array.from({ length: 101 }, () => ({ start: 0, end: 1 })), [{ start: 5, end: 5 }], [{ start: -1, end: 3 }], [{ start: 0, end: 1001 }], [{ start: 0.5, end: 3 }], 'x']
    for (const r of bad) {
      const res = await ranges(r)
      expect(res.status, JSON.stringify(r).slice(0, 40)).toBe(400)
      expect(res.body.error.code).toBe('bad_request')
    }
    expect((await ranges([{ start: 999, end: 1000 }])).status).toBe(200)
    expect(t.calls).toEqual(['read:999-1000'])
  })

  it('asks canRead again: revoked access stops signing', async () => {
    const { ranges, revoke } = await opened()
    expect((await ranges([{ start: 0, end: 10 }])).status).toBe(200)
    revoke()
    const res = await ranges([{ start: 0, end: 10 }])
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('forbidden')
  })

  it('refuses another principal, a tampered token, an expired one, and an upload token', async () => {
    const { t, token, ranges } = await opened()
    expect((await ranges([{ start: 0, end: 1 }], token, { 'x-user': 'bob' })).body.error.code).toBe('forbidden')
    const edited = tamper(token, (c) => (c.key = 'bob/u2/secret.mp4'))
    expect((await ranges([{ start: 0, end: 1 }], edited)).body.error.code).toBe('token_invalid')
    const grown = tamper(token, (c) => (c.size = 10 ** 9))
    expect((await ranges([{ start: 0, end: 1 }], grown)).body.error.code).toBe('token_invalid')
    // An upload token, even one whose claims were signed by this server, is not a download token.
    const up = (await t.create(1000)).body
    const asDownload = await ranges([{ start: 0, end: 1 }], up.token)
    expect(asDownload.status).toBe(403)
    expect(asDownload.body.error).toMatchObject({ code: 'token_invalid', message: expect.stringContaining('upload token') })
    // Relabelling it as a download token breaks the MAC.
    expect((await ranges([{ start: 0, end: 1 }], up.token.replace(/^v1\./, 'd1.'))).body.error.code).toBe('token_invalid')
  })

  it('a download token is never an upload token', async () => {
    const { t, token } = await opened()
    const up = (await t.create(1000)).body
    const sign = await t.call('POST', `/uploads/${up.uploadId}/parts`, { token, parts: [{ partNumber: 1, size: 1000, md5: '1B2M2Y8AsgTpgAmY7PhCfg==' }] })
    expect(sign.status).toBe(403)
    expect(sign.body.error).toMatchObject({ code: 'token_invalid', message: expect.stringContaining('download token') })
    const relabelled = await t.call('POST', `/uploads/${up.uploadId}/complete`, { token: token.replace(/^d1\./, 'v1.'), parts: [{ partNumber: 1, etag: 'x' }] })
    expect(relabelled.body.error.code).toBe('token_invalid')
    expect((await t.call('GET', `/uploads/${up.uploadId}/parts`, undefined, { 'valet-token': token })).body.error.code).toBe('token_invalid')
  })

  it('an expired token: 401 token_expired', async () => {
    let now = Date.now()
    const { ranges } = await opened({ tokenTtl: 60, keyTtl: 60 }, { now: () => now })
    now += 61_000
    const res = await ranges([{ start: 0, end: 1 }])
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('token_expired')
  })
})
