import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { normalizeDownloadOptions, normalizeDownloaderOptions, type DownloaderOptions } from './download-options.js'

const defaults = { absoluteEndpoint: true, stateStore: () => undefined }

function refusal(options: unknown): { option: unknown; message: string } {
  try {
    normalizeDownloaderOptions(options as DownloaderOptions, defaults)
  } catch (e) {
    if (isValetError(e) && e.code === 'invalid_option') return { option: e.context.option, message: e.message }
    throw e
  }
  throw new Error('accepted')
}

describe('createDownloader options', () => {
  it('defaults', () => {
    const o = normalizeDownloaderOptions({ endpoint: 'http://127.0.0.1:3000/api/valet/' }, defaults)
    expect(o).toMatchObject({ endpoint: 'http://127.0.0.1:3000/api/valet', concurrency: 4, rangeSize: undefined, maxBlobSize: 256 * 1024 * 1024 })
    expect(o.ranges).toMatchObject({ retries: 5, stallTimeout: 60_000 })
  })

  it.each([
    [{ endpoint: 'ftp://x' }, 'endpoint'],
    [{ endpoint: 'http://x', concurrency: 0 }, 'concurrency'],
    [{ endpoint: 'http://x', rangeSize: 1000 }, 'rangeSize'],
    [{ endpoint: 'http://x', resume: 'yes' }, 'resume'],
    [{ endpoint: 'http://x', partSize: 5 }, 'partSize'],
  ])('%o is refused, naming %s', (options, option) => {
    expect(refusal(options).option).toBe(option)
  })

  it('download() options are checked too', () => {
    expect(() => normalizeDownloadOptions({ signal: 'x' as unknown as AbortSignal }, { concurrency: 4 })).toThrow(/signal/)
    expect(normalizeDownloadOptions(undefined, { concurrency: 4 })).toMatchObject({ concurrency: 4 })
  })
})
