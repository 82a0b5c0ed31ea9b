import { describe, expect, it } from 'vitest'
import { isPartRef } from './part-ref.js'
import { prepareBrowserSource } from './prepare-browser-source.js'

const signal = new AbortController().signal
const settings = { concurrency: 4 }
/** A caller without type checking, passing what the entry's type forbids. */
const untyped: (source: unknown, options: typeof settings) => unknown = prepareBrowserSource as (source: unknown, options: typeof settings) => unknown

describe('browser sources', () => {
  it('opens a File: its name, size, type and mtime; parts are references, not slices', async () => {
    const file = new File(['hello world'], 'hello.txt', { type: 'text/plain', lastModified: 1234 })
    const source = await prepareBrowserSource(file, settings)(signal)
    expect([source.name, source.size, source.type, source.lastModified, source.access]).toEqual(['hello.txt', 11, 'text/plain', 1234, 'random'])
    const part = await source.read(6, 11, signal)
    expect(isPartRef(part) && [part.start, part.end, part.size]).toEqual([6, 11, 5])
    expect(await part.toBlob().text()).toBe('world')
  })

  it('fingerprints by name, size, mtime and type, plus a sample of the content', async () => {
    const a = await prepareBrowserSource(new File(['aaaa'], 'x.bin', { lastModified: 1 }), settings)(signal)
    const identity = await a.identity()
    expect(identity?.key).toBe(JSON.stringify(['blob', 'x.bin', 4, 1, '']))
    expect(identity?.samples).toHaveLength(1)
  })

  it('needs a name for a plain Blob, and rejects what is not a Blob at once', () => {
    expect(() => prepareBrowserSource(new Blob(['x']), settings)).toThrow(expect.objectContaining({ code: 'invalid_option' }))
    expect(() => prepareBrowserSource(new Blob(['x']), { ...settings, name: 'x.bin' })).not.toThrow()
    expect(() => untyped('/etc/passwd', settings)).toThrow(expect.objectContaining({ code: 'invalid_source' }))
  })
})
