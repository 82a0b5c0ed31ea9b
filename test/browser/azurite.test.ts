/**
 * The browser client in Chromium against Azurite (Put Block with a SAS per blob, Get Block List
 * for resume, Put Block List on complete), driven through the example page.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { azuriteCase, expectStored } from '../support/storages.js'
import { launchChromium, startPageServer, uploadMadeFile, type Chromium, type PageServer } from './harness.js'
import { MiB, makeChunks, sha256Of, type FileSpec } from './page-tools.js'
import { cancelMidUpload } from './cancel-scenario.js'
import { reloadMidUpload } from './reload-scenario.js'

const storage = azuriteCase()
let server: PageServer
let browser: Chromium
let dir: string

beforeAll(async () => {
  ;[server, browser, dir] = await Promise.all([
    startPageServer(storage, { '/api/valet': {}, '/api/short': { options: { keyTtl: 4 } } }),
    launchChromium(),
    mkdtemp(join(tmpdir(), 'valet-browser-files-')),
  ])
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('Chromium → Azurite', () => {
  it('uploads 64 MiB made in the page, verified by sha256 read back from Azurite', async () => {
    const spec: FileSpec = { name: 'azure-big.bin', size: 64 * MiB, seed: 29, lastModified: 1_700_001_000_000 }
    const { page, puts, row } = await uploadMadeFile(browser.context, server.url({ concurrency: 4, partSize: 8 * MiB }), spec)
    console.log(`[browser] azurite 64 MiB: ${row.elapsedMs} ms, ${(64 / ((row.elapsedMs ?? 1) / 1000)).toFixed(1)} MiB/s`)
    expect(puts.total()).toBe(8)
    await expectStored(storage, row.key, { size: spec.size, sha256: sha256Of(makeChunks(spec.size, spec.seed)) })
    await page.close()
  })

  it('completes with 4 s SAS keys over a throttled link where each part outlives its key', async () => {
    const spec: FileSpec = { name: 'azure-slow.bin', size: 12 * MiB, seed: 31, lastModified: 1_700_001_100_000 }
    const { page, puts, row } = await uploadMadeFile(browser.context, server.url({ endpoint: '/api/short', concurrency: 2, partSize: 3 * MiB }), spec, 1.2 * MiB)
    console.log(`[browser] azurite 4 s keys: ${row.elapsedMs} ms, part PUTs took ${puts.durations.map((d) => Math.round(d)).join(', ')} ms`)
    expect(Math.max(...puts.durations)).toBeGreaterThan(4000)
    expect(puts.statuses.every((s) => s.status === 201)).toBe(true)
    expect(puts.repeated()).toEqual([])
    await expectStored(storage, row.key, { size: spec.size, sha256: sha256Of(makeChunks(spec.size, spec.seed)) })
    await page.close()
  })

  it('continues after a reload when the same file is picked again (Get Block List), sending few parts twice', async () => {
    const spec: FileSpec = { name: 'azure-reload.bin', size: 24 * MiB, seed: 37, lastModified: 1_700_001_200_000 }
    const concurrency = 2
    const { page, row, sha256 } = await reloadMidUpload(browser.context, server.url({ concurrency, partSize: 3 * MiB }), dir, spec, { concurrency, bytesPerSecond: 6 * MiB, label: 'azurite after reload' })
    await expectStored(storage, row.key, { size: spec.size, sha256 })
    await page.close()
  })

  it('cancel aborts the upload in storage: no uncommitted blocks, no blob', async () => {
    const spec: FileSpec = { name: 'azure-cancel.bin', size: 24 * MiB, seed: 41, lastModified: 1_700_001_300_000 }
    await cancelMidUpload(browser.context, server, storage, server.url({ concurrency: 2, partSize: 3 * MiB }), spec)
  })
})
