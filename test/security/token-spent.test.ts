/**
 * Attacks 1, 3 and 9 of issue 12 on real storage: a token, or a key signed with it, used after
 * its upload ended to change the approved object, run `onComplete` again, or start over at the
 * same key. Outcomes are read back through the storage's own API.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { generate, sha256 } from '../support/key-endpoint.js'
import { storageCases, type StorageCase } from '../support/storages.js'
import { AttackLog } from './attack-log.js'
import { attacker, partEtag } from './attacker.js'

const log = new AttackLog('token-spent')
afterAll(() => log.write())

/** The object's sha256 as storage serves it, or how reading it failed. */
async function served(storage: StorageCase, key: string): Promise<string> {
  try {
    const object = await storage.read(key)
    return object ? sha256(object.bytes) : 'absent'
  } catch (e) {
    return `unreadable (${(e as Error).message.slice(0, 60)})`
  }
}

describe.each(storageCases.map((make) => [make().name, make] as const))('%s', (store, makeCase) => {
  const storage = makeCase()

  it('1: a token signs, lists and completes nothing once its upload completed; the approved object stays', async () => {
    const a = attacker(storage)
    const { up, done, sha256: approved } = await a.approved(6 * MiB, 11)
    const evil = generate(6 * MiB, 66)
    const sign = await a.sign(up, a.partsOf(up, evil))
    const list = await a.list(up)
    expect([sign.status, sign.body.error.code]).toEqual([404, 'upload_not_found'])
    expect([list.status, list.body.error.code]).toEqual([404, 'upload_not_found'])
    expect(await served(storage, up.key)).toBe(approved)
    expect(a.hooks.runs).toBe(1)
    expect(done.result).toEqual({ run: 1 })
    log.record({ group: '1', attack: 'sign new part keys with the token after complete', store, outcome: `${sign.status} ${sign.body.error.code}; object unchanged`, refused: true })
  })

  it('1: a part key signed before complete, for other bytes, used after complete', async () => {
    const a = attacker(storage)
    const data = generate(6 * MiB, 12)
    const evil = generate(6 * MiB, 67)
    const up = await a.start(data.length)
    // Signed while the upload was open: a key for part 1 with the other bytes' MD5.
    const [evilKey] = await a.keys(up, [a.partsOf(up, evil)[0]!])
    const etags = await a.send(up, a.partsOf(up, data))
    expect((await a.complete(up, etags)).status).toBe(200)
    const evilPart = a.partsOf(up, evil)[0]!.bytes
    const put = await a.put(evilKey!, evilPart)
    const evilEtag = partEtag(put, evilPart)
    const again = await a.complete(up, [{ partNumber: 1, etag: evilEtag }, etags[1]!])
    expect([again.status, again.body.error.code]).toEqual([409, 'object_exists'])
    expect(a.hooks.runs).toBe(1)
    const now = await served(storage, up.key)
    if (store === 'azurite') {
      // The key names the upload's staging blob, never the object: the PUT lands there.
      expect(now).toBe(sha256(data))
      log.record({ group: '1', attack: 'PUT other bytes with a part key signed before complete, then complete again', store, outcome: `PUT ${put.status} (staging blob); complete 409 object_exists; object unchanged`, refused: true })
    } else {
      // Swift s3api finds the finished upload through the object's upload id and takes the PUT
      // into its segment: the object then fails its segment ETag check on read. It never serves
      // the other bytes. Residual risk for the key's remaining lifetime, docs/security.md.
      expect(put.status).toBe(200)
      expect(now).not.toBe(sha256(evil))
      log.record({
        group: '1',
        attack: 'PUT other bytes with a part key signed before complete, then complete again',
        store,
        outcome: `PUT ${put.status} accepted by Swift s3api into the finished upload: reads then fail (${now === sha256(data) ? 'still whole' : 'segment ETag mismatch'}), other bytes never served; complete 409; residual until the key expires (keyTtl)`,
        refused: false,
      })
    }
  })

  it('1: a part key turned into a whole-object write (its URL edited) never reaches the approved object', async () => {
    const a = attacker(storage)
    const data = generate(6 * MiB, 13)
    const up = await a.start(data.length)
    const [key] = await a.keys(up, [a.partsOf(up, data)[0]!])
    const etags = await a.send(up, a.partsOf(up, data))
    const done = await a.complete(up, etags)
    expect(done.status).toBe(200)
    const evil = generate(21 * MiB, 68)
    const write = (url: URL) =>
      fetch(url, { method: 'PUT', headers: { 'content-type': 'text/html', 'x-ms-blob-type': 'BlockBlob', 'x-ms-meta-approved': 'yes' }, body: evil as Uint8Array<ArrayBuffer> })
    // Azure: drop comp=block&blockid (Put Blob); S3: drop partNumber&uploadId (PutObject).
    const wholeObject = new URL(key!.url)
    for (const p of ['comp', 'blockid', 'partNumber', 'uploadId']) wholeObject.searchParams.delete(p)
    const sameName = await write(wholeObject)
    // And the same at the approved object's own URL.
    const atObject = new URL(done.body.location as string)
    atObject.search = wholeObject.search
    const otherName = await write(atObject)
    expect(otherName.status).toBe(403)
    expect(await served(storage, up.key)).toBe(sha256(data))
    expect((await storage.read(up.key))!.type).toBe('image/png')
    const where = store === 'azurite' ? 'its own staging blob, never the object' : 'signature refused'
    log.record({ group: '1', attack: 'Put Blob / PutObject of 21 MiB text/html with a part key, after complete', store, outcome: `${sameName.status} (${where}); at the object's URL ${otherName.status}; object unchanged`, refused: true })
  })

  it('3: onComplete runs once for repeated and for concurrent completes, which all answer alike', async () => {
    const a = attacker(storage)
    const { up, etags, done } = await a.approved(6 * MiB, 14)
    const repeated = [] as { status: number; body: unknown }[]
    for (let i = 0; i < 5; i++) repeated.push(await a.complete(up, etags))
    expect(repeated.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    expect(repeated.every((r) => JSON.stringify(r.body) === JSON.stringify(done))).toBe(true)
    expect(a.hooks.runs).toBe(1)
    log.record({ group: '3', attack: '5 repeated completes after success', store, outcome: `5 × 200, same answer; onComplete ran ${a.hooks.runs}×`, refused: true })

    const b = attacker(storage)
    const data = generate(6 * MiB, 15)
    const up2 = await b.start(data.length)
    const etags2 = await b.send(up2, b.partsOf(up2, data))
    const answers = await Promise.all([1, 2, 3, 4].map(() => b.complete(up2, etags2)))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect(new Set(answers.map((r) => JSON.stringify(r.body))).size).toBe(1)
    expect(b.hooks.runs).toBe(1)
    expect(await served(storage, up2.key)).toBe(sha256(data))
    log.record({ group: '3', attack: '4 concurrent completes', store, outcome: `4 × 200, one answer; onComplete ran ${b.hooks.runs}×`, refused: true })
  })

  it('9: a requestId re-used after its upload completed starts nothing and overwrites nothing', async () => {
    const a = attacker(storage)
    const requestId = `rq_${Date.now()}_${store}_reuse`
    const { up, sha256: approved } = await a.approved(6 * MiB, 16, { requestId })
    const again = await a.create(6 * MiB, { requestId })
    expect([again.status, again.body.error.code]).toEqual([409, 'object_exists'])
    expect(await served(storage, up.key)).toBe(approved)
    expect(a.hooks.runs).toBe(1)
    expect(await storage.openUploads(up.key)).toBe(0)
    log.record({ group: '9', attack: 're-use a requestId after its upload completed', store, outcome: `${again.status} ${again.body.error.code}; object unchanged; onComplete 1×`, refused: true })
  })

  it('abort spends the token too: nothing signed, listed or committed after it', async () => {
    const a = attacker(storage)
    const data = generate(6 * MiB, 17)
    const up = await a.start(data.length)
    const etags = await a.send(up, a.partsOf(up, data))
    expect((await a.abort(up)).status).toBe(204)
    const after = [await a.sign(up, a.partsOf(up, data)), await a.list(up), await a.complete(up, etags)]
    expect(after.map((r) => r.body.error.code)).toEqual(['upload_not_found', 'upload_not_found', 'upload_not_found'])
    expect(await served(storage, up.key)).toBe('absent')
    expect(a.hooks.runs).toBe(0)
    log.record({ group: '1', attack: 'sign, list and complete after abort', store, outcome: '404 upload_not_found ×3; nothing stored', refused: true })
  })
})
