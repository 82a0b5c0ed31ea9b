/**
 * Issue 15: many files through one uploader reuse their connections. Counting proxies in front
 * of Swift and of the key server tell TCP connections from requests, so the test sees what
 * crossed the wire: a client that opened a connection per request (no keep-alive, or an agent
 * per file) would show as many connections as requests.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KiB } from '@valet/protocol'
import { createUploader } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { expectStored, swiftCase } from '../support/storages.js'
import { AUTH, keyProxiedStack } from './harness.js'

const FILES = 20
const IN_FLIGHT = 4
// A connection can be dropped and reopened now and then (an idle timeout between two files).
const SLACK = 2

describe('swift: one uploader, many files', () => {
  let stack: Awaited<ReturnType<typeof keyProxiedStack>>
  let dir: string

  beforeAll(async () => {
    stack = await keyProxiedStack('swift')
    dir = await mkdtemp(join(tmpdir(), 'valet-reuse-'))
  })
  afterAll(async () => {
    await stack?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it(`${FILES} small files, ${IN_FLIGHT} at a time: at most ${IN_FLIGHT} + ${SLACK} connections to storage and to the key endpoint`, async () => {
    const files = await Promise.all(
      Array.from({ length: FILES }, async (_, i) => {
        const data = generate(64 * KiB + i, 500 + i)
        const path = join(dir, `f${i}.bin`)
        await writeFile(path, data)
        return { path, data }
      }),
    )
    const uploader = createUploader({ endpoint: stack.endpoint, concurrency: IN_FLIGHT, headers: () => AUTH, resume: false })
    stack.proxy.resetStats()
    stack.keyProxy.resetStats()

    // What the CLI does: a pool of workers over the files, one PUT slot each.
    const keys: string[] = []
    let next = 0
    const worker = async () => {
      for (let i = next++; i < FILES; i = next++) keys[i] = (await uploader.upload(files[i]!.path, { concurrency: 1 }).done).key
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))

    const storage = stack.proxy.stats
    const endpoint = stack.keyProxy.stats
    // Every file was a request of its own on each side (create and complete; one PUT, its key
    // signed with the create: a single-PUT upload)…
    expect(storage.partPuts).toBe(FILES)
    expect(endpoint.requests).toBeGreaterThanOrEqual(2 * FILES)
    // …over a handful of connections. The key server's own storage calls reach Swift through the
    // same proxy: only connections that carried the client's part PUTs count here.
    expect(storage.partPutConnections, `${storage.partPutConnections} connections for ${storage.partPuts} part PUTs`).toBeLessThanOrEqual(IN_FLIGHT + SLACK)
    expect(endpoint.connections, `${endpoint.connections} connections for ${endpoint.requests} key-endpoint requests`).toBeLessThanOrEqual(IN_FLIGHT + SLACK)

    const swift = swiftCase()
    for (const i of [0, FILES - 1]) await expectStored(swift, keys[i], { size: files[i]!.data.length, sha256: sha256(files[i]!.data) })
  })
})
