/**
 * Attacks 7, 8 and 11 of issue 12 on real storage: principals whose ids clean up to the same
 * prefix, names that split a surrogate pair, script-capable types behind a wildcard or stored
 * inline, metadata the store would refuse with a 5xx.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { keyEndpoint, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { AttackLog } from './attack-log.js'
import { attacker } from './attacker.js'

const log = new AttackLog('keys-and-types')
afterAll(() => log.write())

describe.each(storageCases.map((make) => [make().name, make] as const))('%s', (store, makeCase) => {
  const storage = makeCase()

  it('7: ids that used to clean up alike get distinct prefixes, and each object lands under its own', async () => {
    // Ids travel percent-encoded here: HTTP would trim `alice `'s space.
    const { call } = keyEndpoint(storage.provider(), { authorize: (r) => ({ id: decodeURIComponent(r.headers.get('x-user')!) }) })
    const ids = ['alice', 'alice.', 'alice ', '.alice', 'org/1', 'org\\1', 'org_1']
    const keys: string[] = []
    for (const id of ids) {
      const res = await call('POST', '/uploads', { name: 'a.bin', size: 1, type: 'application/octet-stream' }, { 'x-user': encodeURIComponent(id) })
      expect(res.status, id).toBe(201)
      expect(res.body.key.startsWith(`${principalPrefix(id)}/`)).toBe(true)
      keys.push(res.body.key.split('/')[0])
      await call('DELETE', `/uploads/${encodeURIComponent(res.body.uploadId)}`, undefined, { 'x-user': encodeURIComponent(id), 'valet-token': res.body.token })
    }
    expect(new Set(keys).size).toBe(ids.length)
    log.record({ group: '7', attack: `principals ${ids.map((i) => JSON.stringify(i)).join(', ')}`, store, outcome: `${new Set(keys).size} distinct prefixes (${keys.join(', ')})`, refused: true })
  })

  it('7: a 300-character name of letters outside the BMP is stored, not split into a 400 or 500', async () => {
    const a = attacker(storage)
    const name = `${'\u{1D49C}'.repeat(150)}.png` // 2 UTF-16 units each: the old 200-unit cut split one
    const { up, sha256: approved } = await a.approved(6 * MiB, 31, { name })
    const object = await storage.read(up.key)
    expect(sha256(object!.bytes)).toBe(approved)
    expect(up.key).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/)
    log.record({ group: '7', attack: 'a name cut inside a surrogate pair (150 × U+1D49C)', store, outcome: 'stored under a well-formed key, same bytes', refused: true })
  })

  it('8: image/* does not admit SVG; text/html is stored as an attachment unless the app opts out', async () => {
    const strict = attacker(storage, { allowedTypes: ['image/*'] })
    const svg = await strict.create(MiB, { name: 'x.svg', type: 'image/svg+xml' })
    expect([svg.status, svg.body.error.code]).toEqual([415, 'type_not_allowed'])
    const open = attacker(storage)
    const { up } = await open.approved(6 * MiB, 32, { name: 'page.html', type: 'text/html' })
    const stored = (await storage.read(up.key))!
    expect(stored.type).toMatch(/^text\/html/)
    expect(stored.disposition).toBe('attachment')
    const inline = attacker(storage, { activeContent: 'inline' })
    const kept = await inline.approved(6 * MiB, 33, { name: 'page.html', type: 'text/html' })
    expect((await storage.read(kept.up.key))!.disposition ?? null).toBeNull()
    log.record({ group: '8', attack: "image/svg+xml under allowedTypes ['image/*']", store, outcome: `${svg.status} ${svg.body.error.code}`, refused: true })
    log.record({ group: '8', attack: 'text/html with the default options', store, outcome: 'stored with Content-Disposition: attachment (inline only with activeContent: "inline")', refused: true })
  })

  it('11: metadata the store cannot hold is a clear 400 at create, never a 5xx', async () => {
    const a = attacker(storage)
    const max = storage.provider().limits
    // The two: a 300-byte value, 100 keys. Each is refused where the provider cannot
    // store it (Swift: both) and stored where it can (Azure takes 300-byte values).
    const long = await a.create(6 * MiB, { metadata: { note: 'x'.repeat(300) } })
    const many = await a.create(MiB, { metadata: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'])) })
    expect([long.status, long.body.error?.code]).toEqual(max.maxMetadataValueBytes < 300 ? [400, 'bad_request'] : [201, undefined])
    expect([many.status, many.body.error.code]).toEqual([400, 'bad_request'])
    if (long.status === 400) expect(long.body.error.message).toMatch(/metadata\.note/)
    else await a.abort(long.body)
    // The most the provider promises is stored as given, with a name of the longest kind.
    const each = Math.min(max.maxMetadataValueBytes, Math.floor(max.maxMetadataBytes / max.maxMetadataCount) - 3)
    const fits = Object.fromEntries(Array.from({ length: max.maxMetadataCount }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(each)]))
    const { up } = await a.approved(6 * MiB, 34, { metadata: fits, name: `${'n'.repeat(600)}.bin` })
    expect((await storage.read(up.key))!.metadata).toEqual(fits)
    const outcome = (r: typeof long) => `${r.status} ${r.body.error?.code ?? 'stored'}`
    log.record({ group: '11', attack: 'metadata: a 300-byte value; 100 keys', store, outcome: `${outcome(long)}; ${outcome(many)}; never a 5xx; the provider's maximum (${max.maxMetadataCount} keys, ${max.maxMetadataBytes} bytes) is stored as given`, refused: true })
  })
})
