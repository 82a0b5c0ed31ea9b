import { describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { readMemoryPartUrl } from './testing/memory-part-url.js'
import { TEST_MD5, testValet } from './testing/test-valet.js'

const HOUR = 3_600_000

describe('sign: keys on the server clock', () => {
  it('dates keys, serverTime and the token by the server clock; keys live keyTtl (ms underneath)', async () => {
    const t = testValet({}, {}, { now: () => Date.now() + HOUR, keyTtlMs: 400 })
    const up = (await t.create(20 * MiB)).body
    expect(Date.parse(up.expiresAt) - Date.now()).toBeGreaterThan(HOUR + 86_400_000 - 5000)
    const res = await t.call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts: [{ partNumber: 1, size: up.partSize, md5: TEST_MD5 }] })
    expect(res.status).toBe(200)
    const serverTime = Date.parse(res.body.serverTime)
    expect(serverTime - Date.now()).toBeGreaterThan(HOUR - 5000)
    expect(Date.parse(res.body.parts[0].expiresAt) - serverTime).toBe(400)
    // What the in-memory provider signs into the URL, to the ms, for a fake storage to check.
    expect(readMemoryPartUrl('http://storage.invalid', res.body.parts[0].url)).toEqual({
      key: up.key, uploadId: up.uploadId, partNumber: 1, size: up.partSize, md5: TEST_MD5, expiresAt: Date.parse(res.body.parts[0].expiresAt),
    })
  })

  it('refuses a token the server clock sees expired', async () => {
    let now = Date.now()
    const t = testValet({ keyTtl: 60, tokenTtl: 60 }, {}, { now: () => now })
    const up = (await t.create(20 * MiB)).body
    now += 61_000
    const res = await t.call('POST', `/uploads/${up.uploadId}/parts`, { token: up.token, parts: [{ partNumber: 1, size: up.partSize, md5: TEST_MD5 }] })
    expect([res.status, res.body.error.code]).toEqual([401, 'token_expired'])
  })
})
