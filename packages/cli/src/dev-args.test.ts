import { describe, expect, it } from 'vitest'
import { UsageError } from './cli-args.js'
import { parseDevArgs } from './dev-args.js'

describe('parseDevArgs', () => {
  it('defaults to Azurite on 127.0.0.1:3000 with data in .valet', () => {
    expect(parseDevArgs([], '/work', {})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dir: '/work/.valet',
      staticDir: undefined,
      corsOrigins: [],
      storage: { kind: 'azurite' },
    })
  })

  it('takes --cors-origin, repeated, as exact origins only', () => {
    expect(parseDevArgs(['--cors-origin', 'http://localhost:5173', '--cors-origin', 'https://app.test/'], '/w', {})).toMatchObject({
      corsOrigins: ['http://localhost:5173', 'https://app.test'],
    })
    for (const bad of ['*', 'localhost:5173', 'http://localhost:5173/app', 'http://*.test']) {
      expect(() => parseDevArgs(['--cors-origin', bad], '/w', {}), bad).toThrow(UsageError)
    }
  })

  it('takes a fixed Azurite port, for part URLs that must work through a port-forward', () => {
    expect(parseDevArgs(['--storage-port', '10000'], '/work', {})).toMatchObject({ storage: { kind: 'azurite', port: 10000 } })
  })

  it('takes port 0, a host, a dir and a static folder', () => {
    expect(parseDevArgs(['--port', '0', '--host', '::1', '--dir', '/tmp/v', '--static', 'site'], '/work', {})).toMatchObject({
      port: 0,
      host: '::1',
      dir: '/tmp/v',
      staticDir: '/work/site',
    })
  })

  it('configures S3 from flags, with credentials from the environment as a fallback', () => {
    const fromFlags = parseDevArgs(
      ['--storage', 's3', '--s3-endpoint', 'http://127.0.0.1:9000', '--s3-bucket', 'b', '--s3-access-key', 'k', '--s3-secret-key', 's'],
      '/',
      {},
    )
    expect(fromFlags !== 'help' && fromFlags.storage).toEqual({
      kind: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's',
    })
    const fromEnv = parseDevArgs(['--storage', 's3', '--s3-bucket', 'b', '--s3-region', 'eu-west-1'], '/', {
      AWS_ACCESS_KEY_ID: 'ek',
      AWS_SECRET_ACCESS_KEY: 'es',
    })
    expect(fromEnv !== 'help' && fromEnv.storage).toMatchObject({ endpoint: undefined, region: 'eu-west-1', accessKeyId: 'ek', secretAccessKey: 'es' })
  })

  it.each([
    [['--port', '70000'], /--port/],
    [['--port', 'http'], /--port/],
    [['--storage', 'gcs'], /--storage must be azurite or s3/],
    [['--s3-bucket', 'b'], /--s3-bucket needs --storage s3/],
    [['--storage', 's3'], /needs --s3-bucket/],
    [['--storage', 's3', '--s3-bucket', 'b'], /--s3-access-key/],
    [['--storage-port', '0'], /--storage-port must be a whole number from 1/],
    [['--storage', 's3', '--s3-bucket', 'b', '--storage-port', '10000'], /--storage-port is for Azurite/],
    [['--verbose'], /unknown option --verbose/],
    [['extra'], /unexpected argument extra/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseDevArgs(argv, '/', {})).toThrow(UsageError)
    expect(() => parseDevArgs(argv, '/', {})).toThrow(message)
  })
})
