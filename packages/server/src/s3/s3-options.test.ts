import { describe, expect, it } from 'vitest'
import { normalizeS3Options, type S3Options } from './s3-options.js'

const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }

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

  it.each<[string, unknown, RegExp]>([
    ['bucket missing', { credentials }, /option `bucket` must be a non-empty string/],
    ['bucket empty', { bucket: '', credentials }, /option `bucket` must be a non-empty string/],
    ['bucket with slash', { bucket: 'a/b', credentials, forcePathStyle: true }, /option `bucket` must not contain "\/"/],
    ['bucket not DNS', { bucket: 'My_Bucket', credentials }, /option `bucket` must be a DNS-compatible name/],
    ['region', { region: 'eu west', bucket: 'abc', credentials }, /option `region` must be a region name/],
    ['endpoint not a URL', { endpoint: 'localhost:9000', bucket: 'abc', credentials, forcePathStyle: true }, /option `endpoint` must be an http: or https: URL/],
    ['endpoint garbage', { endpoint: '::', bucket: 'abc', credentials }, /option `endpoint` must be an absolute URL/],
    ['endpoint query', { endpoint: 'https://s3.test/?x=1', bucket: 'abc', credentials }, /option `endpoint` must not have a query/],
    ['endpoint userinfo', { endpoint: 'https://u:p@s3.test', bucket: 'abc', credentials }, /must not carry credentials/],
    ['IP without path style', { endpoint: 'http://127.0.0.1:9000', bucket: 'abc', credentials }, /option `forcePathStyle` must be true/],
    ['forcePathStyle type', { bucket: 'abc', credentials, forcePathStyle: 'yes' }, /option `forcePathStyle` must be a boolean/],
    ['credentials missing', { bucket: 'abc' }, /option `credentials` must be an object/],
    ['accessKeyId', { bucket: 'abc', credentials: { secretAccessKey: 's' } }, /option `credentials.accessKeyId` must be a non-empty string/],
    ['secretAccessKey', { bucket: 'abc', credentials: { accessKeyId: 'a', secretAccessKey: '' } }, /option `credentials.secretAccessKey`/],
    ['sessionToken', { bucket: 'abc', credentials: { ...credentials, sessionToken: 1 } }, /option `credentials.sessionToken`/],
    ['padded string', { bucket: ' abc', credentials }, /option `bucket` must not start or end with whitespace/],
  ])('throws a TypeError naming the option: %s', (_, options, message) => {
    expect(() => normalizeS3Options(options as S3Options)).toThrow(TypeError)
    expect(() => normalizeS3Options(options as S3Options)).toThrow(message)
  })

  it('never puts the secret in a message', () => {
    try {
      normalizeS3Options({ bucket: 'abc', credentials: { accessKeyId: ' ', secretAccessKey: 'TOP-SECRET' } })
      expect.unreachable()
    } catch (e) {
      expect(String(e)).not.toContain('TOP-SECRET')
    }
  })

  it('rejects a non-object', () => {
    expect(() => normalizeS3Options(null as unknown as S3Options)).toThrow(/s3: options must be an object/)
  })
})
