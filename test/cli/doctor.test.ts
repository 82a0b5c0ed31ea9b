/**
 * The built `valet doctor` end to end, against real key endpoints (the kit's key server:
 * createValet on node:http, 127.0.0.1, under /api/valet, permissive CORS) over Swift s3api and Azurite: a
 * healthy deployment passes, a second Azurite started without CORS fails with the Azure fix,
 * 2 s keys draw the key-lifetime warning, and no run leaves an upload open in storage.
 *
 * Runs `packages/cli/dist/bin.js`: `pnpm test` builds first (run `pnpm run build` by hand otherwise).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StorageProvider, ValetOptions } from '@valet/server'
import { startAzurite, type AzuriteServer } from '../../scripts/azurite/start.mjs'
import { bearer } from '../support/key-endpoint.js'
import { startKeyServer, type KeyServer } from '../support/key-server.js'
import { azuriteCase, swiftCase } from '../support/storages.js'

const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))
const AUTH = 'authorization: Bearer doctor-test'
const PAGE_ORIGIN = 'http://localhost:5173'

interface Check {
  id: string
  status: 'ok' | 'warn' | 'fail'
  message: string
  fix?: string
}

const servers: KeyServer[] = []
let stopAzurite: (() => Promise<void>) | undefined

/** A key endpoint (permissive CORS) whose uploads all live under `${principal}/`, so a run's leftovers can be counted. */
async function keyServer(storage: StorageProvider, principal: string, options: Partial<ValetOptions> = {}): Promise<string> {
  const server = await startKeyServer(storage, { authorize: bearer('doctor-test', principal), ...options }, { cors: true })
  servers.push(server)
  return server.endpoint
}

function doctor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'doctor', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function doctorJson(endpoint: string, extra: string[] = []) {
  const run = await doctor(['--endpoint', endpoint, '--header', AUTH, '--json', ...extra])
  const report = JSON.parse(run.stdout) as { ok: boolean; checks: Check[]; figures: Record<string, number | null> }
  const check = (id: string) => report.checks.find((c) => c.id === id)
  return { ...run, report, check }
}

const swift = swiftCase()
const azurite = azuriteCase()
let swiftEndpoint: string
let azuriteEndpoint: string
let shortKeysEndpoint: string
let swiftReadEndpoint: string
let azuriteReadEndpoint: string
// Started in beforeAll but awaited only by its test: Azurite takes seconds to come up.
let noCors: Promise<{ server: AzuriteServer; endpoint: string }>

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  noCors = startAzurite({ cors: false }).then(async (server) => {
    stopAzurite = server.stop
    return { server, endpoint: await keyServer(azuriteCase(server).provider(), 'doctor-nocors') }
  })
  noCors.catch(() => undefined) // reported by the test that awaits it
  const canRead = () => true
  ;[swiftEndpoint, azuriteEndpoint, shortKeysEndpoint, swiftReadEndpoint, azuriteReadEndpoint] = await Promise.all([
    keyServer(swift.provider(), 'doctor-swift'),
    keyServer(azurite.provider(), 'doctor-azurite'),
    keyServer(swift.provider(), 'doctor-short', { keyTtl: 2 }),
    keyServer(swift.provider(), 'doctor-swift-read', { canRead }),
    keyServer(azurite.provider(), 'doctor-azurite-read', { canRead }),
  ])
})

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await stopAzurite?.()
})

describe('valet doctor (built) against real storage', () => {
  it('passes Swift behind a CORS-enabled endpoint, for a page on another origin', async () => {
    const { code, report, check, stderr } = await doctorJson(swiftEndpoint, ['--origin', PAGE_ORIGIN])
    expect(code, stderr).toBe(0)
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([])
    expect(report.ok).toBe(true)
    for (const id of ['endpoint', 'endpoint-cors', 'sign', 'storage-cors-preflight', 'storage-put', 'storage-cors-response', 'clock-storage', 'upload-rate', 'key-lifetime', 'cleanup']) {
      expect(check(id), id).toBeDefined()
    }
    expect(report.figures.keyLifetimeSeconds).toBeGreaterThanOrEqual(899)
    expect(Math.abs(report.figures.skewKeyServerMs!)).toBeLessThan(2_000)
    expect(Math.abs(report.figures.skewStorageMs!)).toBeLessThan(2_000)
    expect(report.figures.uploadRateBytesPerSecond).toBeGreaterThan(0)
    expect(await swift.openUploads('doctor-swift/')).toBe(0)
  })

  it('passes Azurite with its CORS rule (etag exposed)', async () => {
    const { code, report, check, stderr } = await doctorJson(azuriteEndpoint)
    expect(code, stderr).toBe(0)
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([])
    expect(check('storage-cors-preflight')?.status).toBe('ok')
    expect(check('storage-cors-response')?.status).toBe('ok')
    expect(check('endpoint-cors')).toBeUndefined() // same origin as the endpoint: no CORS involved
    expect(await azurite.openUploads('doctor-azurite/')).toBe(0)
  })

  it('checks storage CORS for downloads only where the endpoint serves them (canRead)', async () => {
    const off = await doctorJson(azuriteEndpoint)
    expect(off.check('storage-cors-download')).toMatchObject({ status: 'ok', message: expect.stringMatching(/downloads are off/) })
    // Azurite with the CORS rule valet dev sets: GET with x-ms-range, if-match, x-ms-version; ETag and Content-Range exposed.
    const azureRead = await doctorJson(azuriteReadEndpoint)
    expect(azureRead.check('storage-cors-download')).toMatchObject({ status: 'ok', message: expect.stringMatching(/preflight GET with if-match, x-ms-range, x-ms-version passes, ETag and Content-Range exposed/) })
    expect(azureRead.code, azureRead.stderr).toBe(0)
    // This suite's Swift exposes ETag and Content-Range (scripts/swift/start.mjs) and allows the
    // preflight of a read key's GET: downloads pass. Failing cases are in doctor-cors.test.ts.
    const swiftRead = await doctorJson(swiftReadEndpoint, ['--origin', PAGE_ORIGIN])
    expect(swiftRead.check('storage-cors-download')).toMatchObject({ status: 'ok', message: expect.stringMatching(/preflight GET with if-match, range passes, ETag and Content-Range exposed/) })
    expect(swiftRead.check('storage-cors-response')?.status).toBe('ok')
    expect(await swift.openUploads('doctor-swift-read/')).toBe(0)
    expect(await azurite.openUploads('doctor-azurite-read/')).toBe(0)
  })

  it('warns about 2 s keys, in the plain checklist, with keyTtl as the fix', async () => {
    const { code, stdout, stderr } = await doctor(['--endpoint', shortKeysEndpoint, '--header', AUTH])
    expect(code, `${stdout}\n${stderr}`).toBe(0)
    expect(stdout).toMatch(/^\[warn\] key-lifetime: keys live only [\d.]+ s, under the 3\d s a key needs in hand/m)
    expect(stdout).toMatch(/^ {4}fix: raise keyTtl: createValet\(\{ \.\.\., keyTtl: 900 \}\)/m)
    expect(stdout).toMatch(/^\[ok\] {3}storage-put: /m)
    expect(stdout).toMatch(/^Ready for browser uploads: 0 failed, 1 warning, \d+ ok\.$/m)
    expect(stdout).not.toMatch(/\x1b\[/)
    expect(await swift.openUploads('doctor-short/')).toBe(0)
  })

  it('fails storage without CORS (a second Azurite) with the Azure fix: exposedHeaders etag', async () => {
    const { server, endpoint } = await noCors
    const { code, report, check } = await doctorJson(endpoint)
    expect(code).toBe(1)
    expect(report.ok).toBe(false)
    expect(check('storage-put')?.status).toBe('ok') // the key itself is fine: only the browser is shut out
    expect(check('storage-cors-preflight')).toMatchObject({ status: 'fail', message: expect.stringMatching(/answered 403.*CorsPreflightFailure/) })
    expect(check('storage-cors-preflight')?.fix).toMatch(/setProperties\(\{ cors: \[\{ allowedOrigins: 'http:\/\/127\.0\.0\.1:\d+', allowedMethods: 'PUT'.*exposedHeaders: 'etag/)
    expect(check('storage-cors-response')).toMatchObject({ status: 'fail', fix: expect.stringContaining("exposedHeaders: 'etag") })
    expect(check('cleanup')?.status).toBe('ok')
    expect(await azuriteCase(server).openUploads('doctor-nocors/')).toBe(0)
  })
})
