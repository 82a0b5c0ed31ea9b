/**
 * Read keys (issue 16) on real storage: what a key handed out for one range of one object lets
 * its holder do — read that range, nothing else (S3), or that blob (Azure: a SAS binds no range)
 * — and what the key endpoint refuses before any key exists.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { KiB, type SignedRange } from '@valet/protocol'
import { principalPrefix } from '@valet/server'
import { generate, keyEndpoint, sha256 } from '../support/key-endpoint.js'
import { storageCases } from '../support/storages.js'
import { uploadThrough } from '../support/upload-through.js'
import { AttackLog } from './attack-log.js'

const log = new AttackLog('read-keys')
afterAll(() => log.write())

const ownPrefix = ({ principal, key }: { principal: { id: string }; key: string }) => key.startsWith(`${principalPrefix(principal.id)}/`)

describe.each(storageCases)('read keys on %o', (makeCase) => {
  const storage = makeCase()
  let allowed = true
  const { call } = keyEndpoint(storage.provider(), { canRead: (input) => allowed && ownPrefix(input) })
  const alice = `reader-${randomUUID().slice(0, 8)}`
  const bob = `${alice}-bob`
  const aliceBytes = generate(96 * KiB, 51)
  const bobBytes = generate(32 * KiB, 52)

  /** Alice's object, Bob's object, and a key for bytes [100, 1100) of Alice's. */
  const fixture = (async () => {
    const mine = await uploadThrough(call, alice, aliceBytes, { name: 'mine.bin' })
    const theirs = await uploadThrough(call, bob, bobBytes, { name: 'theirs.bin' })
    const opened = await call('POST', '/downloads', { key: mine.key }, { 'x-user': alice })
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    const signed = await call('POST', '/downloads/ranges', { token: opened.body.token, ranges: [{ start: 100, end: 1100 }] }, { 'x-user': alice })
    expect(signed.status, JSON.stringify(signed.body)).toBe(200)
    return { mine, theirs, token: opened.body.token as string, key: signed.body.ranges[0] as SignedRange }
  })()

  const send = (url: string, init: RequestInit = {}) => fetch(url, init)
  const edited = (key: SignedRange, edit: (url: URL) => void) => {
    const url = new URL(key.url)
    edit(url)
    return url.toString()
  }
  const unchanged = async () => {
    const { mine, theirs } = await fixture
    expect(sha256((await storage.read(mine.key))!.bytes)).toBe(sha256(aliceBytes))
    expect(sha256((await storage.read(theirs.key))!.bytes)).toBe(sha256(bobBytes))
  }

  it('reads its range: exactly those bytes', async () => {
    const { key } = await fixture
    const res = await send(key.url, { headers: key.headers })
    expect(res.status).toBe(206)
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(aliceBytes.subarray(100, 1100)))
  })

  it('refuses another object, writes, deletes and listings', async () => {
    const { key, theirs } = await fixture
    const otherPath = (url: URL) => (url.pathname = url.pathname.replace(/[^/]+\/[^/]+\/mine\.bin$/, theirs.key.split('/').map(encodeURIComponent).join('/')))
    const bucket = (url: URL) => (url.pathname = url.pathname.replace(/\/[^/]+\/[^/]+\/mine\.bin$/, ''))
    const attempts: Record<string, () => Promise<Response>> = {
      "path edited to another principal's object": () => send(edited(key, otherPath), { headers: { ...key.headers, 'If-Match': theirs.etag } }),
      // Without the key's If-Match (Swift answers 501 to a conditional PUT before it looks at
      // the signature) and with what Put Blob needs: the refusal is the signature's or the SAS's.
      'used for PUT (overwrite)': () =>
        send(key.url, { method: 'PUT', headers: storage.name === 'swift' ? {} : { 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': key.headers['x-ms-version']! }, body: 'evil' }),
      'used for DELETE': () => send(key.url, { method: 'DELETE', headers: key.headers }),
      ...(storage.name === 'swift'
        ? {
            'used for HEAD': () => send(key.url, { method: 'HEAD', headers: key.headers }),
            'path edited to the bucket (ListObjects)': () => send(edited(key, bucket), { headers: key.headers }),
            'path edited to the bucket, list-type=2': () => send(edited(key, (u) => (bucket(u), u.searchParams.set('list-type', '2')))),
          }
        : {
            'used for Set Blob Metadata': () => send(edited(key, (u) => u.searchParams.set('comp', 'metadata')), { method: 'PUT', headers: { 'x-ms-meta-evil': '1', 'x-ms-version': key.headers['x-ms-version']! } }),
            'path edited to the container (List Blobs)': () => send(edited(key, (u) => (bucket(u), u.searchParams.set('restype', 'container'), u.searchParams.set('comp', 'list')))),
            'permissions edited to sp=rw': () => send(edited(key, (u) => u.searchParams.set('sp', 'rw')), { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'evil' }),
          }),
      'expiry edited': () =>
        send(
          edited(key, (u) => (u.searchParams.has('X-Amz-Expires') ? u.searchParams.set('X-Amz-Expires', '604800') : u.searchParams.set('se', '2099-01-01T00:00:00Z'))),
          { headers: key.headers },
        ),
    }
    for (const [attack, attempt] of Object.entries(attempts)) {
      const res = await attempt()
      expect(res.status, attack).toBe(403)
      log.record({ group: 'D', attack: `read key: ${attack}`, store: storage.name, outcome: `${res.status}; both objects unchanged`, refused: true })
    }
    await unchanged()
  })

  it('S3 binds range and version; an Azure SAS binds neither (stated)', async () => {
    const { key } = await fixture
    const rangeName = Object.keys(key.headers).find((h) => /range$/i.test(h))!
    const withoutIfMatch = Object.fromEntries(Object.entries(key.headers).filter(([h]) => h.toLowerCase() !== 'if-match'))
    const withoutRange = Object.fromEntries(Object.entries(key.headers).filter(([h]) => h !== rangeName))
    const attempts: Record<string, () => Promise<Response>> = {
      'another range than signed': () => send(key.url, { headers: { ...key.headers, [rangeName]: 'bytes=2000-2999' } }),
      'no range (the whole object)': () => send(key.url, { headers: withoutRange }),
      'no If-Match': () => send(key.url, { headers: withoutIfMatch }),
    }
    for (const [attack, attempt] of Object.entries(attempts)) {
      const res = await attempt()
      if (storage.name === 'swift') {
        expect(res.status, attack).toBe(403)
        log.record({ group: 'D', attack: `read key: ${attack}`, store: 'swift', outcome: `${res.status} (range and If-Match are signed headers)`, refused: true })
      } else {
        // A SAS covers the blob, not a range or a version: the holder reads the same blob's
        // bytes until keyTtl (docs/security.md, "Read keys").
        expect(res.status, attack).toBeLessThan(300)
        log.record({ group: 'D', attack: `read key: ${attack}`, store: 'azurite', outcome: `${res.status}: the same blob's bytes (a SAS binds no range or ETag); never another blob, until keyTtl`, refused: false })
      }
    }
  })

  it('a read key after its expiry: 403', async () => {
    const { mine } = await fixture
    const short = keyEndpoint(storage.provider(), { canRead: ownPrefix, keyTtl: 1 })
    const token = (await short.call('POST', '/downloads', { key: mine.key }, { 'x-user': alice })).body.token
    const [key] = (await short.call('POST', '/downloads/ranges', { token, ranges: [{ start: 0, end: 10 }] }, { 'x-user': alice })).body.ranges
    await new Promise((resolve) => setTimeout(resolve, Date.parse(key.expiresAt) - Date.now() + 1500))
    const res = await send(key.url, { headers: key.headers })
    expect(res.status).toBe(403)
    log.record({ group: 'D', attack: 'a read key used after its expiry', store: storage.name, outcome: `${res.status}`, refused: true })
  })

  it('the key endpoint: canRead, private records, token kinds, revocation', async () => {
    const { mine, theirs, token } = await fixture
    const as = (who: string) => ({ 'x-user': who })
    const other = await call('POST', '/downloads', { key: theirs.key }, as(alice))
    expect(other.status).toBe(403)
    const provider = storage.provider()
    await provider.records.write('probes/read-keys.json', '{"v":1}')
    const { call: anyone } = keyEndpoint(provider, { canRead: () => true })
    const record = await anyone('POST', '/downloads', { key: '.valet/probes/read-keys.json' })
    const climbing = await anyone('POST', '/downloads', { key: `${alice}/../.valet/probes/read-keys.json` })
    // Azure reads `\` as `/` in blob names: this key names Valet's record there.
    const backslashed = await anyone('POST', '/downloads', { key: '.valet\\probes\\read-keys.json' })
    expect([record.status, climbing.status, backslashed.status]).toEqual([403, 400, 403])
    const reachable = (await provider.stat({ key: '.valet\\probes\\read-keys.json' })) !== undefined
    const up = (await call('POST', '/uploads', { name: 'x.bin', size: 10, type: '' }, as(alice))).body
    const uploadAsDownload = await call('POST', '/downloads/ranges', { token: up.token, ranges: [{ start: 0, end: 1 }] }, as(alice))
    const downloadAsUpload = await call('POST', `/uploads/${encodeURIComponent(up.uploadId)}/parts`, { token, parts: [{ partNumber: 1, size: 10, md5: '1B2M2Y8AsgTpgAmY7PhCfg==' }] }, as(alice))
    const stolen = await call('POST', '/downloads/ranges', { token, ranges: [{ start: 0, end: 1 }] }, as(bob))
    const beyond = await call('POST', '/downloads/ranges', { token, ranges: [{ start: 0, end: aliceBytes.byteLength + 1 }] }, as(alice))
    expect([uploadAsDownload.status, downloadAsUpload.status, stolen.status, beyond.status]).toEqual([403, 403, 403, 400])
    allowed = false
    const revoked = await call('POST', '/downloads/ranges', { token, ranges: [{ start: 0, end: 1 }] }, as(alice))
    allowed = true
    expect(revoked.status).toBe(403)
    const rows: [string, string][] = [
      ["open another principal's object (canRead: own prefix)", '403 forbidden'],
      ['open a record under .valet/ (canRead always true)', '403 forbidden'],
      ['open a key climbing into .valet/ with ".."', '400 bad_request'],
      ['open .valet\\… written with backslashes', `403 forbidden (storage ${reachable ? 'serves it as .valet/…: measured' : 'keeps it a distinct name'})`],
      ['an upload token used as a download token', '403 token_invalid'],
      ['a download token used as an upload token', '403 token_invalid'],
      ["another principal's genuine download token", '403 forbidden'],
      ['a range beyond the object', '400 bad_request'],
      ['sign ranges after canRead revoked access', '403 forbidden'],
    ]
    for (const [attack, outcome] of rows) log.record({ group: 'D', attack, store: storage.name, outcome: `${outcome}, no key signed`, refused: true })
  })
})
