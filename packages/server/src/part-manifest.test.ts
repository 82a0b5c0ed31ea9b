import { describe, expect, it } from 'vitest'
import { integrityOf, manifestParts, md5OfPartEtag, partManifest, type PartManifest } from './part-manifest.js'
import type { StoredObject } from './storage.js'

const object = (more: Partial<StoredObject> = {}): StoredObject => ({ etag: '"abc-2"', size: 15, location: 'x', type: undefined, disposition: undefined, metadata: {}, ...more })

describe('part manifests', () => {
  it('reads part etags as base64 MD5s: S3 quoted hex, Azure base64; nothing else', () => {
    expect(md5OfPartEtag('"d41d8cd98f00b204e9800998ecf8427e"')).toBe('1B2M2Y8AsgTpgAmY7PhCfg==')
    expect(md5OfPartEtag('1B2M2Y8AsgTpgAmY7PhCfg==')).toBe('1B2M2Y8AsgTpgAmY7PhCfg==')
    expect(md5OfPartEtag('"e1"')).toBeUndefined()
    expect(md5OfPartEtag('"0x8DC0A1B2C3D4E5F"')).toBeUndefined()
  })

  it('records nothing for an encrypted object or a part etag that is no MD5', () => {
    const parts = [{ partNumber: 2, etag: '"d41d8cd98f00b204e9800998ecf8427e"' }, { partNumber: 1, etag: 'XUFAKrxLKna5cZ2REBfFkg==' }]
    expect(partManifest('k', object(), 10, parts)).toEqual({ v: 1, key: 'k', etag: '"abc-2"', partSize: 10, parts: ['XUFAKrxLKna5cZ2REBfFkg==', '1B2M2Y8AsgTpgAmY7PhCfg=='] })
    expect(partManifest('k', object({ encrypted: true }), 10, parts)).toBeUndefined()
    expect(partManifest('k', object(), 10, [...parts, { partNumber: 3, etag: 'kms-etag' }])).toBeUndefined()
  })

  it('integrity: parts for the same etag and a plan that fits the size, else md5, else none', () => {
    const manifest: PartManifest = { v: 1, key: 'k', etag: 'abc-2', partSize: 10, parts: ['XUFAKrxLKna5cZ2REBfFkg==', '1B2M2Y8AsgTpgAmY7PhCfg=='] }
    expect(integrityOf(manifestParts(manifest, object()), object())).toEqual({
      kind: 'parts',
      partSize: 10,
      parts: [
        { partNumber: 1, size: 10, md5: 'XUFAKrxLKna5cZ2REBfFkg==' },
        { partNumber: 2, size: 5, md5: '1B2M2Y8AsgTpgAmY7PhCfg==' },
      ],
    })
    expect(integrityOf(manifestParts(manifest, object({ etag: '"other"' })), object({ etag: '"other"' }))).toEqual({ kind: 'none' })
    expect(integrityOf(manifestParts(manifest, object({ size: 25 })), object({ size: 25 }))).toEqual({ kind: 'none' })
    // Parts read from storage must form a plan of exactly the object's size.
    const part = (partNumber: number, size: number) => ({ partNumber, size, md5: 'XUFAKrxLKna5cZ2REBfFkg==' })
    expect(integrityOf([part(1, 10), part(2, 5)], object()).kind).toBe('parts')
    expect(integrityOf([part(1, 5), part(2, 10)], object()).kind).toBe('none')
    expect(integrityOf([part(1, 10), part(3, 5)], object()).kind).toBe('none')
    expect(integrityOf([part(1, 10), part(2, 4)], object()).kind).toBe('none')
    expect(integrityOf(undefined, object({ md5: 'XUFAKrxLKna5cZ2REBfFkg==' }))).toEqual({ kind: 'md5', md5: 'XUFAKrxLKna5cZ2REBfFkg==' })
  })
})
