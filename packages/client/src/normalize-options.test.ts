import { describe, expect, it } from 'vitest'
import { ValetError } from '@valet/protocol'
import { createMemoryResumeStore } from './resume/memory-resume-store.js'
import { normalizeOptions, normalizeUploadOptions, type PlatformDefaults, type UploaderOptions } from './normalize-options.js'

const store = createMemoryResumeStore()
const node: PlatformDefaults = { absoluteEndpoint: true, resumeStore: () => store }
const endpoint = 'http://127.0.0.1:3000/api/valet'

function optionError(fn: () => unknown): { code: string; option: unknown; message: string } | undefined {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof ValetError)) throw e
    return { code: e.code, option: e.context.option, message: e.message }
  }
  return undefined
}
const bad = (options: Record<string, unknown>) => optionError(() => normalizeOptions({ endpoint, ...options } as UploaderOptions, node))

describe('normalizeOptions', () => {
  it('fills in the documented defaults', async () => {
    const o = normalizeOptions({ endpoint: `${endpoint}//` }, node)
    expect(o).toMatchObject({
      endpoint, concurrency: 4, resumeStore: store, partSize: undefined, progressInterval: 100,
      parts: { retries: 5, backoff: { base: 500, cap: 20_000 }, stallTimeout: 60_000 },
      keyEndpoint: { endpoint, retries: 5, backoff: { base: 500, cap: 20_000 }, requestTimeout: 30_000, retryWindow: 30_000 },
    })
    expect(o.keyEndpoint.backoff).toBe(o.parts.backoff) // built once
    expect(await o.keyEndpoint.headers()).toEqual({})
  })

  it('names the offending option', () => {
    expect(bad({ concurrency: 0 })).toMatchObject({
      code: 'invalid_option', option: 'concurrency', message: 'createUploader: option `concurrency` must be an integer from 1 to 64, got 0',
    })
    expect(bad({ concurrency: 2.5 })).toMatchObject({ option: 'concurrency' })
    expect(bad({ retries: -1 })).toMatchObject({ option: 'retries' })
    expect(bad({ partSize: '8MiB' })).toMatchObject({ option: 'partSize' })
    expect(bad({ stallTimeout: Number.NaN })).toMatchObject({ option: 'stallTimeout' })
    expect(bad({ headers: 'x' })).toMatchObject({ option: 'headers' })
    expect(bad({ headers: { a: 1 } })).toMatchObject({ option: 'headers.a' })
    expect(bad({ resume: 'yes' })).toMatchObject({ option: 'resume' })
    expect(bad({ resume: { get() {} } })).toMatchObject({ option: 'resume' })
    expect(bad({ stateDir: '' })).toMatchObject({ option: 'stateDir' })
    expect(bad({ concurency: 4 })).toMatchObject({ option: 'concurency', message: expect.stringContaining('not an option') })
    expect(bad({ retryDelay: 30_000 })).toMatchObject({ option: 'retryDelay' }) // above maxRetryDelay
  })

  it("accepts only checksum 'md5', saying why", () => {
    expect(bad({ checksum: 'md5' })).toBeUndefined()
    expect(bad({ checksum: false })).toMatchObject({ option: 'checksum', message: expect.stringContaining('signed') })
  })

  it('needs an absolute http(s) endpoint in Node, not in browsers', () => {
    expect(bad({ endpoint: '/api/valet' })).toMatchObject({ option: 'endpoint' })
    expect(bad({ endpoint: 'ftp://127.0.0.1/x' })).toMatchObject({ option: 'endpoint' })
    expect(bad({ endpoint: '' })).toMatchObject({ option: 'endpoint' })
    expect(normalizeOptions({ endpoint: '/api/valet/' }, { ...node, absoluteEndpoint: false }).endpoint).toBe('/api/valet')
  })

  it('resume: false keeps no store; a custom store is used as is', () => {
    expect(normalizeOptions({ endpoint, resume: false }, node).resumeStore).toBeUndefined()
    const mine = createMemoryResumeStore()
    expect(normalizeOptions({ endpoint, resume: mine }, node).resumeStore).toBe(mine)
  })

  it('calls a headers function per call and checks its answer', async () => {
    let n = 0
    const o = normalizeOptions({ endpoint, headers: async () => ({ authorization: `t${++n}` }) }, node)
    expect(await o.keyEndpoint.headers()).toEqual({ authorization: 't1' })
    expect(await o.keyEndpoint.headers()).toEqual({ authorization: 't2' })
    // A function whose answer only shows at run time (parsed JSON, say).
    const broken = normalizeOptions({ endpoint, headers: () => JSON.parse('{"a":1}') }, node)
    await expect(broken.keyEndpoint.headers()).rejects.toMatchObject({ code: 'invalid_option', context: { option: 'headers.a' } })
  })
})

describe('normalizeUploadOptions', () => {
  const badUpload = (o: Record<string, unknown>) => optionError(() => normalizeUploadOptions(o, { concurrency: 4 }))
  it('names the offending option', () => {
    expect(badUpload({ name: '' })).toMatchObject({ option: 'name' })
    expect(badUpload({ size: 0 })).toMatchObject({ option: 'size' })
    expect(badUpload({ metadata: { a: 2 } })).toMatchObject({ option: 'metadata.a' })
    expect(badUpload({ signal: {} })).toMatchObject({ option: 'signal' })
    expect(badUpload({ onProgress: 1 })).toMatchObject({ option: 'onProgress' })
    expect(badUpload({ nmae: 'x' })).toMatchObject({ option: 'nmae' })
    expect(badUpload({ concurrency: 65 })).toMatchObject({ option: 'concurrency', message: 'upload(): option `concurrency` must be an integer from 1 to 64, got 65' })
    expect(badUpload({ name: 'a', size: 3, signal: new AbortController().signal, onProgress: () => {} })).toBeUndefined()
  })

  it("takes concurrency per upload, else the uploader's", () => {
    expect(normalizeUploadOptions(undefined, { concurrency: 3 }).concurrency).toBe(3)
    expect(normalizeUploadOptions({ concurrency: 8 }, { concurrency: 3 }).concurrency).toBe(8)
  })
})
