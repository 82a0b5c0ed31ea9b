/**
 * `uploader.uploadMany` in Node against real Swift s3api through the fault proxy: many small
 * files go as single PUTs with batched creates and completes, a large one multipart beside
 * them, and every object is read back through Swift's own API and compared by SHA-256.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { createUploader } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { expectStored, swiftCase } from '../support/storages.js'
import { AUTH, proxiedStack } from './harness.js'

const SMALL = 100
const PART = 5 * MiB

describe('swift: uploadMany', () => {
  const storage = swiftCase()
  let stack: Awaited<ReturnType<typeof proxiedStack>>
  let dir: string
  /** Object PUTs (single-PUT uploads) that reached the proxy, by object path. */
  const objectPuts = new Map<string, number>()

  beforeAll(async () => {
    // A single PUT carries no partNumber in its URL (the proxy counts it as part 1).
    const isObjectPut = (r: { method: string; url: string }) => r.method === 'PUT' && !/[?&]partNumber=/.test(r.url) && !r.url.includes('/.valet/')
    const count = (r: { method: string; url: string }): false => {
      if (isObjectPut(r)) objectPuts.set(r.url.split('?')[0]!, (objectPuts.get(r.url.split('?')[0]!) ?? 0) + 1)
      return false
    }
    // The small file named flipped.txt has one byte flipped on its way to storage, once.
    stack = await proxiedStack('swift', {
      rules: [
        { kind: 'status-500', match: count },
        { kind: 'flip-bytes', match: (r) => isObjectPut(r) && r.url.includes('flipped.txt'), times: 1 },
      ],
    })
    dir = await mkdtemp(join(tmpdir(), 'valet-many-'))
  })
  afterAll(async () => {
    await stack?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it(`${SMALL} small files + 1 multipart + 1 flipped in flight: all stored byte for byte, tens of key calls, one PUT per small file`, async () => {
    const files: { path: string; data: Uint8Array }[] = []
    for (let i = 0; i < SMALL; i++) {
      const data = generate(1 + ((i * 7919) % (64 * 1024)), 1000 + i)
      files.push({ path: join(dir, `small-${i}.txt`), data })
    }
    const flipped = { path: join(dir, 'flipped.txt'), data: generate(40_000, 7) }
    const big = { path: join(dir, 'big.bin'), data: generate(2 * PART + 12_345, 8) }
    files.push(flipped, big)
    for (const f of files) await writeFile(f.path, f.data)

    const before = stack.keys.calls.length
    const t0 = Date.now()
    const batch = createUploader({ endpoint: stack.keys.endpoint, headers: () => AUTH, resume: false, concurrency: 8, partSize: PART, retryDelay: 50 }).uploadMany(
      files.map((f) => f.path),
    )
    const outcomes = await batch.done
    const ms = Date.now() - t0
    expect(outcomes.map((o) => (o.ok ? 'ok' : `${o.name}: ${o.error.code} ${o.error.message}`))).toEqual(files.map(() => 'ok'))
    for (const [i, o] of outcomes.entries()) {
      const f = files[i]!
      if (!o.ok) continue
      await expectStored(storage, o.result.key, { size: f.data.byteLength, sha256: sha256(f.data) })
    }

    const calls = stack.keys.calls.slice(before)
    const byOp = new Map<string, number>()
    for (const c of calls) byOp.set(c.op, (byOp.get(c.op) ?? 0) + 1)
    console.log(`uploadMany on Swift: ${files.length} files in ${ms} ms, ${calls.length} key calls: ${JSON.stringify(Object.fromEntries(byOp))}`)
    // ~0.1 call per file (13 measured for 102): creates and completes in batches; signs only for the multipart
    // file (and a re-sign after the flipped PUT, if storage refused it).
    // (A batch of one goes to the item's own route.)
    expect(calls.length).toBeLessThan(20)
    expect((byOp.get('create') ?? 0) + (byOp.get('create-batch') ?? 0)).toBeLessThanOrEqual(4)
    expect(stack.proxy.stats.faults['flip-bytes']).toBe(1)
    // One storage PUT per small file, the flipped one refused (BadDigest) and sent again; the big
    // file's parts once each (every one of them a part PUT for the proxy).
    expect(stack.proxy.stats.partPuts).toBe(3 + SMALL + 2)
    const puts = [...objectPuts.entries()]
    expect(puts).toHaveLength(SMALL + 1)
    expect(puts.filter(([path, n]) => n !== 1)).toEqual([[expect.stringContaining('flipped.txt'), 2]])
  })
})
