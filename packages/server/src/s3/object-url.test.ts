import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { bucketUrl, encodeKey, objectUrl } from './object-url.js'
import { normalizeS3Options } from './s3-options.js'

const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }

describe('encodeKey', () => {
  it('encodes every segment per S3 rules and keeps "/"', () => {
    expect(encodeKey('user-1/a b/ü+(1)!*\'~_.-x.bin')).toBe("user-1/a%20b/%C3%BC%2B%281%29%21%2A%27~_.-x.bin")
    expect(encodeKey('100%/x?y#z&=;:@$,')).toBe('100%25/x%3Fy%23z%26%3D%3B%3A%40%24%2C')
    expect(encodeKey('a\\b')).toBe('a%5Cb')
    expect(encodeKey('/lead//double/')).toBe('/lead//double/')
    expect(encodeKey('.hidden/..x/...')).toBe('.hidden/..x/...')
  })

  it.each([
    ['', /non-empty/],
    ['a/../b', /"\." or "\.\." path segments/],
    ['./a', /"\." or "\.\." path segments/],
    ['a/..', /"\." or "\.\." path segments/],
    ['x'.repeat(1025), /at most 1024 bytes/],
    ['é'.repeat(513), /at most 1024 bytes/],
    ['a\uD800b', /well-formed Unicode/],
  ])('refuses %j', (key, message) => {
    try {
      encodeKey(key)
      expect.unreachable()
    } catch (e) {
      expect(isValetError(e) && e.code).toBe('bad_request')
      expect((e as Error).message).toMatch(message)
    }
  })
})

describe('objectUrl', () => {
  it('uses the virtual-hosted style by default', () => {
    const o = normalizeS3Options({ region: 'eu-west-1', bucket: 'uploads', credentials })
    expect(bucketUrl(o)).toBe('https://uploads.s3.eu-west-1.amazonaws.com/')
    expect(objectUrl(o, 'u/a b.txt').toString()).toBe('https://uploads.s3.eu-west-1.amazonaws.com/u/a%20b.txt')
  })

  it('puts the bucket in the path with forcePathStyle, after any endpoint path', () => {
    const o = normalizeS3Options({ endpoint: 'http://127.0.0.1:8080/base/', bucket: 'My Bucket', credentials, forcePathStyle: true })
    expect(objectUrl(o, 'k(1).bin').toString()).toBe('http://127.0.0.1:8080/base/My%20Bucket/k%281%29.bin')
  })

  it('keeps the URL exactly as encoded (no normalization by URL)', () => {
    const o = normalizeS3Options({ endpoint: 'https://s3.example.test', bucket: 'b-1', credentials })
    const key = 'a/%2e%2e/./b'.replace('/./', '/.x/')
    expect(objectUrl(o, key).pathname).toBe('/a/%252e%252e/.x/b')
  })
})
