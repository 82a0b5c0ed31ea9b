import { describe, expect, it } from 'vitest'
import type { CliIo } from './cli-io.js'
import { main } from './main.js'

function io(): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd: '/',
    env: {},
    out: () => out,
    err: () => err,
  }
}

describe('valet doctor (dispatch)', () => {
  it('is listed in the main help', async () => {
    const a = io()
    expect(await main(['--help'], a)).toBe(0)
    expect(a.out()).toMatch(/^ {2}doctor {4}check a deployment/m)
  })

  it('prints its help, also through `valet help doctor`', async () => {
    const a = io()
    expect(await main(['doctor', '--help'], a)).toBe(0)
    expect(a.out()).toMatch(/^Usage: valet doctor --endpoint URL/)
    const b = io()
    expect(await main(['help', 'doctor'], b)).toBe(0)
    expect(b.out()).toBe(a.out())
  })

  it('exits 2 with a hint on a usage error', async () => {
    const a = io()
    expect(await main(['doctor', '--origin', 'http://localhost:5173'], a)).toBe(2)
    expect(a.err()).toBe('valet doctor: --endpoint URL is required (e.g. http://127.0.0.1:3000/api/valet)\nRun `valet doctor --help` for usage.\n')
    expect(a.out()).toBe('')
  })

  it('exits 1 with a JSON report when the endpoint does not answer', async () => {
    const a = io()
    expect(await main(['doctor', '--endpoint', 'http://127.0.0.1:9/api/valet', '--json'], a)).toBe(1)
    const report = JSON.parse(a.out())
    expect(report).toMatchObject({ ok: false, checks: [{ id: 'endpoint', status: 'fail', message: expect.stringMatching(/ECONNREFUSED/), fix: expect.stringMatching(/check --endpoint/) }] })
    expect(report.figures).toEqual({ keyLifetimeSeconds: null, skewKeyServerMs: null, skewStorageMs: null, uploadRateBytesPerSecond: null, partSizeBytes: null })
  })
})
