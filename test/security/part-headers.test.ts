/**
 * Attack 4 of issue 12: headers a key holder adds to a part PUT, which the key does not sign,
 * but which the store might act on — object expiry, metadata, content type, a manifest. The
 * committed object must be exactly as planned, or the residual risk stated with the store's
 * behaviour (docs/security.md).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { generate, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { AttackLog } from './attack-log.js'
import { attacker, partEtag } from './attacker.js'

const log = new AttackLog('part-headers')
afterAll(() => log.write())

/** Headers a store could act on, per store, that the part key does not sign. */
const EXTRA: Record<string, Record<string, string>> = {
  swift: {
    'x-object-meta-evil': 'yes',
    'x-object-manifest': 'valet-test/other-user/',
    'content-encoding': 'gzip',
    'content-disposition': 'inline',
    'content-type': 'text/html',
  },
  azurite: {
    'x-ms-meta-evil': 'yes',
    'x-ms-blob-content-type': 'text/html',
    'x-ms-blob-content-disposition': 'inline',
    'x-ms-blob-content-encoding': 'gzip',
  },
}

describe.each(storageCases.map((make) => [make().name, make] as const))('%s', (store, makeCase) => {
  const storage = makeCase()

  it('4: type, metadata, encoding or a manifest slipped into a part PUT never reach the object', async () => {
    const a = attacker(storage)
    const data = generate(6 * MiB, 21)
    const up = await a.start(data.length, { metadata: { album: 'summer' } })
    const parts = a.partsOf(up, data)
    const keys = await a.keys(up, parts)
    const statuses: number[] = []
    const etags = await Promise.all(
      keys.map(async (key, i) => {
        const res = await a.put(key, parts[i]!.bytes, EXTRA[store])
        statuses.push(res.status)
        return { partNumber: key.partNumber, etag: partEtag(res, parts[i]!.bytes) }
      }),
    )
    const done = await a.complete(up, etags)
    // Either storage refused the extra headers, or it ignored them for the object.
    if (done.status === 200) {
      const object = (await storage.read(up.key))!
      expect(sha256(object.bytes)).toBe(sha256(data))
      expect(object.type).toBe('image/png')
      expect(object.metadata).toEqual({ album: 'summer' })
      expect(object.disposition ?? null).toBeNull()
    }
    log.record({
      group: '4',
      attack: `part PUT with unsigned ${Object.keys(EXTRA[store]!).join(', ')}`,
      store,
      outcome: done.status === 200 ? `PUT ${statuses.join('/')}; object exactly as planned (type, metadata, no disposition, bytes)` : `PUT ${statuses.join('/')}; complete ${done.status}`,
      refused: true,
    })
  })

  it.runIf(store === 'swift')('4: X-Delete-After on a part PUT (Swift 2.30 takes it; Swift ≥ 2.31 refuses it on s3api requests)', async () => {
    const a = attacker(storage)
    const data = generate(6 * MiB, 22)
    const up = await a.start(data.length)
    const parts = a.partsOf(up, data)
    const keys = await a.keys(up, parts)
    const expiring = await a.put(keys[1]!, parts[1]!.bytes, { 'x-delete-after': '3' })
    const etags = [
      { partNumber: 1, etag: partEtag(await a.put(keys[0]!, parts[0]!.bytes), parts[0]!.bytes) },
      { partNumber: 2, etag: partEtag(expiring, parts[1]!.bytes) },
    ]
    const done = await a.complete(up, etags)
    await new Promise((r) => setTimeout(r, 5_000))
    const later = await storage.read(up.key).then(
      (o) => (o && sha256(o.bytes) === sha256(data) ? 'still whole' : 'changed'),
      (e: Error) => `unreadable (${e.message.slice(0, 40)})`,
    )
    // What Swift 2.30 does, asserted so a change of store behaviour shows up here.
    expect(expiring.status).toBe(200)
    expect(done.status).toBe(200)
    expect(later).not.toBe('still whole')
    log.record({
      group: '4',
      attack: 'part PUT with X-Delete-After: 3 (object expiry, unsigned)',
      store,
      outcome: `Swift 2.30 s3api accepts it (PUT ${expiring.status}); complete ${done.status}; 5 s later the object is ${later}. The S3 API shows no segment expiry, so complete cannot see it; upstream Swift ≥ 2.31 refuses X-Delete-* on s3api requests (InvalidArgument)`,
      refused: false,
    })
  })
})
