import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { multipartEtag } from './multipart-etag.js'

describe('multipartEtag', () => {
  it('matches S3: md5 of the concatenated part digests, dash part count', () => {
    const parts = ['part one', 'part two', 'three'].map((s) => createHash('md5').update(s).digest())
    const expected = createHash('md5').update(Buffer.concat(parts)).digest('hex')
    expect(multipartEtag(parts.map((d) => `"${d.toString('hex')}"`))).toBe(`"${expected}-3"`)
  })

  it('gives up on ETags that are not MD5s', () => {
    expect(multipartEtag(['"abc"'])).toBeUndefined()
  })
})
