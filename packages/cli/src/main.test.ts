import { describe, expect, it } from 'vitest'
import { invocationDir } from './cli-io.js'
import { main, withoutRunnerDashes } from './main.js'
import { memoryIo } from './testing/memory-io.js'

const io = () => memoryIo('/')

describe('what package scripts hand the CLI', () => {
  it.each([
    [['dev', '--', '--port', '4000'], ['dev', '--port', '4000']], // pnpm start -- --port 4000
    [['dev', '--port', '4000'], ['dev', '--port', '4000']], // pnpm start --port 4000
    [['--', 'upload', 'a.bin'], ['upload', 'a.bin']], // npm run valet -- upload a.bin
    [['upload', 'a', '--', '-b'], ['upload', 'a', '--', '-b']], // a later -- keeps its meaning
  ])('%j runs as %j', (argv, expected) => {
    expect(withoutRunnerDashes(argv)).toEqual(expected)
  })

  it('resolves paths from INIT_CWD inside a package script, from the working directory elsewhere', () => {
    expect(invocationDir({ INIT_CWD: '/home/me/photos', npm_lifecycle_event: 'valet' }, '/repo')).toBe('/home/me/photos')
    expect(invocationDir({ INIT_CWD: '/stale' }, '/here')).toBe('/here')
    const script = { INIT_CWD: '/home/me/photos', npm_lifecycle_event: 'test', npm_package_json: '/repo/package.json' }
    expect(invocationDir(script, '/repo'), 'in the script package folder').toBe('/home/me/photos')
    expect(invocationDir(script, '/tmp/work'), 'a process the script started elsewhere').toBe('/tmp/work')
  })

  it('`valet dev -- --help` prints the help of dev', async () => {
    const a = io()
    expect(await main(['dev', '--', '--help'], a)).toBe(0)
    expect(a.out()).toMatch(/^Usage: valet dev/)
  })
})

describe('main', () => {
  it('prints help with --help (0) and without a command (2)', async () => {
    const a = io()
    expect(await main(['--help'], a)).toBe(0)
    expect(a.out()).toMatch(/^Usage: valet <command>/)
    const b = io()
    expect(await main([], b)).toBe(2)
    expect(b.out()).toMatch(/Commands:/)
  })

  it.each([['dev'], ['upload'], ['download']])('prints `valet %s --help`, also through `valet help %s`', async (command) => {
    const a = io()
    expect(await main([command, '--help'], a)).toBe(0)
    expect(a.out()).toMatch(new RegExp(`^Usage: valet ${command}`))
    const b = io()
    expect(await main(['help', command], b)).toBe(0)
    expect(b.out()).toBe(a.out())
  })

  it('prints the version', async () => {
    const a = io()
    expect(await main(['--version'], a)).toBe(0)
    expect(a.out()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.each([
    [['frobnicate'], 'valet: unknown command "frobnicate"', 'valet --help'],
    [['--frob'], 'valet: unknown option --frob', 'valet --help'],
    [['upload', 'a.bin', '--endpoint', 'http://127.0.0.1:1/api/valet', '--bogus'], 'valet upload: unknown option --bogus', 'valet upload --help'],
    [['upload', 'missing.bin', '--endpoint', 'http://127.0.0.1:1/api/valet'], 'valet upload: no such file or directory: missing.bin', 'valet upload --help'],
    [['dev', '--port', 'x'], 'valet dev: --port must be a whole number', 'valet dev --help'],
    [['download', 'dev/1/a.bin', 'dev/2/a.bin', '--endpoint', 'http://127.0.0.1:1/api/valet'], 'valet download: keys "dev/1/a.bin" and "dev/2/a.bin" would both be written to a.bin', 'valet download --help'],
    [['download', 'dev/1/a.bin'], 'valet download: --endpoint URL is required', 'valet download --help'],
  ])('%j is a usage error: exit 2 and a hint', async (argv, message, hint) => {
    const a = io()
    expect(await main(argv, a)).toBe(2)
    expect(a.err()).toContain(message)
    expect(a.err()).toContain(`Run \`${hint}\` for usage.`)
    expect(a.out()).toBe('')
  })
})

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
