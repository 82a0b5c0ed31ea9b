/**
 * What an upload token can and cannot do, on real storage: the token-level attempts refused
 * before issue 12 (group `R`), and what a key does once its lifetime is over.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { generate, keyEndpoint, md5base64 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { AttackLog } from './attack-log.js'
import { attacker } from './attacker.js'

const log = new AttackLog('token-scope')
afterAll(() => log.write())

describe.each(storageCases.map((make) => [make().name, make] as const))('%s', (store, makeCase) => {
  const storage = makeCase()

  it('a token signs keys only for its own upload, principal and plan, and only while it lives', async () => {
    const alice = attacker(storage, {}, 'alice')
    const mallory = attacker(storage, {}, 'mallory')
    const up = await alice.start(12 * MiB)
    const theirs = await mallory.start(12 * MiB)
    const part = { partNumber: 1, bytes: generate(5 * MiB, 41) }
    const sign = (token: string, uploadId: string, parts: object[], user = 'alice') =>
      alice.call('POST', `/uploads/${encodeURIComponent(uploadId)}/parts`, { token, parts }, { 'x-user': user })
    const md5 = md5base64(part.bytes)
    const [head, claims, mac] = up.token.split('.')
    const widened = JSON.parse(Buffer.from(claims!, 'base64url').toString())
    widened.partCount = 9999
    widened.size = 99 * 2 ** 30
    const forged = `${head}.${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${mac}`
    const attempts: [string, Promise<{ status: number; body: { error?: { code: string } } }>][] = [
      ['a token whose claims were edited (partCount, size)', sign(forged, up.uploadId, [{ partNumber: 1, size: 5 * MiB, md5 }])],
      ["another upload's genuine token", sign(theirs.token, up.uploadId, [{ partNumber: 1, size: 5 * MiB, md5 }], 'mallory')],
      ["another principal's genuine token", sign(up.token, up.uploadId, [{ partNumber: 1, size: 5 * MiB, md5 }], 'mallory')],
      ['a part beyond the plan', sign(up.token, up.uploadId, [{ partNumber: 4, size: 2 * MiB, md5 }])],
      ['a part size off the plan', sign(up.token, up.uploadId, [{ partNumber: 1, size: 6 * MiB, md5 }])],
      ['no principal (anonymous)', sign(up.token, up.uploadId, [{ partNumber: 1, size: 5 * MiB, md5 }], '')],
    ]
    for (const [attack, pending] of attempts) {
      const res = await pending
      expect(res.status, attack).toBeGreaterThanOrEqual(400)
      expect(res.status, attack).toBeLessThan(500)
      log.record({ group: 'R', attack: `sign with ${attack}`, store, outcome: `${res.status} ${res.body.error?.code}`, refused: true })
    }
    await alice.abort(up)
    await mallory.abort(theirs)
  })

  it('an expired token signs nothing; a key is refused by storage once its lifetime is over', async () => {
    const { call } = keyEndpoint(storage.provider(), { keyTtl: 2, tokenTtl: 2 })
    const data = generate(5 * MiB, 42)
    const up = (await call('POST', '/uploads', { name: 'e.bin', size: data.length, partSize: 5 * MiB })).body
    const key = (await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, { token: up.token, parts: [{ partNumber: 1, size: data.length, md5: md5base64(data) }] })).body.parts[0]
    await new Promise((r) => setTimeout(r, 3_000))
    const late = await fetch(key.url, { method: 'PUT', headers: key.headers, body: data as Uint8Array<ArrayBuffer> })
    const sign = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, { token: up.token, parts: [{ partNumber: 1, size: data.length, md5: md5base64(data) }] })
    expect(late.status).toBe(403)
    expect([sign.status, sign.body.error.code]).toEqual([401, 'token_expired'])
    log.record({ group: 'R', attack: 'a part key used after its expiry', store, outcome: String(late.status), refused: true })
    log.record({ group: 'R', attack: 'sign with an expired token', store, outcome: `${sign.status} ${sign.body.error.code}`, refused: true })
  })
})
