import { describe, expect, it } from 'vitest'
import { normalizeS3Options, type ResolvedS3Options } from './s3-options.js'

const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }
// What a JavaScript caller can pass: anything.
const fromJavaScript = normalizeS3Options as (options: unknown) => ResolvedS3Options

describe('normalizeS3Options', () => {
  it('applies the AWS defaults', () => {
    expect(normalizeS3Options({ bucket: 'uploads', credentials })).toEqual({
      protocol: 'https:',
      host: 's3.us-east-1.amazonaws.com',
      basePath: '',
      region: 'us-east-1',
      bucket: 'uploads',
      accessKeyId: 'AKID',
      secretAccessKey: 'SECRET',
      sessionToken: undefined,
      forcePathStyle: false,
    })
  })

  it('derives the default endpoint from the region', () => {
    expect(normalizeS3Options({ region: 'eu-west-3', bucket: 'uploads', credentials }).host).toBe('s3.eu-west-3.amazonaws.com')
  })

  it('keeps a custom endpoint, its port and path prefix, without trailing slash', () => {
    const o = normalizeS3Options({
      endpoint: 'http://127.0.0.1:8080/s3/',
      bucket: 'Swift_Container',
      credentials: { ...credentials, sessionToken: 'TOKEN' },
      forcePathStyle: true,
    })
    expect(o).toMatchObject({ protocol: 'http:', host: '127.0.0.1:8080', basePath: '/s3', bucket: 'Swift_Container', sessionToken: 'TOKEN', forcePathStyle: true })
  })

  it.each<[string, unknown, string, RegExp]>([
    ['bucket missing', { credentials }, 'bucket', /option `bucket` is required: the name of an existing bucket/],
    ['bucket empty', { bucket: '', credentials }, 'bucket', /option `bucket` must be a non-empty string/],
    ['bucket with slash', { bucket: 'a/b', credentials, forcePathStyle: true }, 'bucket', /option `bucket` must not contain "\/"/],
    ['bucket not DNS', { bucket: 'My_Bucket', credentials }, 'bucket', /option `bucket` must be a DNS-compatible name/],
    ['region', { region: 'eu west', bucket: 'abc', credentials }, 'region', /option `region` must be a non-empty string \(a region name such as "us-east-1"\), got "eu west"/],
    ['endpoint not a URL', { endpoint: 'localhost:9000', bucket: 'abc', credentials, forcePathStyle: true }, 'endpoint', /option `endpoint` must be an absolute http: or https: URL, got "localhost:9000"/],
    ['endpoint garbage', { endpoint: '::', bucket: 'abc', credentials }, 'endpoint', /option `endpoint` must be an absolute http: or https: URL, got "::"/],
    ['endpoint query', { endpoint: 'https://s3.test/?x=1', bucket: 'abc', credentials }, 'endpoint', /option `endpoint` must not have a query/],
    ['endpoint userinfo', { endpoint: 'https://u:p@s3.test', bucket: 'abc', credentials }, 'endpoint', /must not carry credentials/],
    ['padded endpoint', { endpoint: ' https://s3.test', bucket: 'abc', credentials }, 'endpoint', /option `endpoint` must be a non-empty string \(an absolute http: or https: URL\)/],
    ['IP without path style', { endpoint: 'http://127.0.0.1:9000', bucket: 'abc', credentials }, 'forcePathStyle', /option `forcePathStyle` must be true/],
    ['forcePathStyle type', { bucket: 'abc', credentials, forcePathStyle: 'yes' }, 'forcePathStyle', /option `forcePathStyle` must be true or false, got "yes"/],
    ['credentials missing', { bucket: 'abc' }, 'credentials', /option `credentials` must be an object \{ accessKeyId, secretAccessKey \}, got undefined/],
    ['accessKeyId', { bucket: 'abc', credentials: { secretAccessKey: 's' } }, 'credentials.accessKeyId', /option `credentials.accessKeyId` is required: the access key id/],
    ['secretAccessKey', { bucket: 'abc', credentials: { accessKeyId: 'a', secretAccessKey: '' } }, 'credentials.secretAccessKey', /option `credentials.secretAccessKey`/],
    ['sessionToken', { bucket: 'abc', credentials: { ...credentials, sessionToken: 1 } }, 'credentials.sessionToken', /option `credentials.sessionToken`/],
    ['padded string', { bucket: ' abc', credentials }, 'bucket', /option `bucket` must be a non-empty string \(the name of an existing bucket, without spaces around it\), got " abc"/],
  ])('refuses with invalid_option naming the option: %s', (_, options, option, message) => {
    expect(() => fromJavaScript(options)).toThrow(message)
    expect(() => fromJavaScript(options)).toThrow(expect.objectContaining({ code: 'invalid_option', message: expect.stringMatching(/^s3\(\): /), context: { option, owner: 's3()' } }))
  })

  it('never puts a secret in a message', () => {
    const padded = ` ${'S'.repeat(38)}`
    for (const secretAccessKey of ['TOP-SECRET ', padded]) {
      const call = () => normalizeS3Options({ bucket: 'abc', credentials: { accessKeyId: 'a', secretAccessKey } })
      expect(call).toThrow(expect.objectContaining({ context: { option: 'credentials.secretAccessKey', owner: 's3()' } }))
      expect(call).not.toThrow(secretAccessKey.trim())
    }
  })

  it('rejects a non-object', () => {
    expect(() => fromJavaScript(null)).toThrow(/^s3\(\): option `options` must be an object, got null/)
  })
})
