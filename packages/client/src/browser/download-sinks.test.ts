import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isValetError } from '@valet/protocol'
import type { DownloadSink, SinkPlan } from '../download/download-ports.js'
import { FakeDirectoryHandle, FakeFileHandle } from '../testing/fake-opfs.js'
import { memoryDownloadSink } from './memory-download-sink.js'
import { openBrowserSink, STAGING_DIR } from './open-browser-sink.js'
import { BLOB_MARKER, openOpfsSink } from './opfs-download-sink.js'
import { prepareBrowserDestination, type DestinationTarget } from './prepare-browser-destination.js'

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const signal = new AbortController().signal

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer())
}

/** Writes `[start, end)` of `data` in chunks of 7 bytes and commits. */
async function writeRange(sink: DownloadSink, data: Uint8Array, start: number, end: number, commit = true): Promise<void> {
  const w = await sink.writer(start, end)
  for (let at = start; at < end; at += 7) await w.write(data.subarray(at, Math.min(end, at + 7)))
  if (commit) await w.commit()
  else await w.discard()
}

const opfsSink = (root: FakeDirectoryHandle, target: DestinationTarget, size: number, resume = true, name = 'fp1') =>
  openOpfsSink(target, { root: root.asHandle(), name, size, resume, release: () => {}, keepForBlob: async () => {} })

describe('OPFS staging (fake OPFS)', () => {
  it('stages ranges as files named by offset, reads any span back, and delivers to a file handle, then removes staging', async () => {
    const root = new FakeDirectoryHandle(STAGING_DIR)
    const data = bytes(100)
    const handle = new FakeFileHandle('out.bin')
    const sink = await opfsSink(root, { kind: 'handle', handle: handle as unknown as FileSystemFileHandle }, 100)
    expect(sink.resumed).toBe(false)
    // Out of order, as concurrent GETs finish.
    await writeRange(sink, data, 40, 80)
    await writeRange(sink, data, 0, 40)
    await writeRange(sink, data, 80, 100)
    const dir = await root.getDirectoryHandle('fp1')
    expect([...dir.children.keys()].sort()).toEqual(['0', '40', '80'])
    expect(sha(await collect(sink.read(0, 100, signal)))).toBe(sha(data))
    expect(await collect(sink.read(35, 85, signal))).toEqual(data.subarray(35, 85))
    await sink.finish(signal)
    expect(sha(handle.bytes)).toBe(sha(data))
    expect(root.children.has('fp1')).toBe(false)
  })

  it('a discarded attempt leaves nothing that counts; a range missing from staging fails a read', async () => {
    const root = new FakeDirectoryHandle(STAGING_DIR)
    const data = bytes(60)
    const sink = await opfsSink(root, { kind: 'blob' }, 60)
    await writeRange(sink, data, 0, 30)
    await writeRange(sink, data, 30, 60, false)
    await expect(sink.finish(signal)).rejects.toThrow(/no committed bytes at offset 30/)
    await expect(collect(sink.read(0, 60, signal))).rejects.toThrow(/no committed bytes at offset 30/)
    await writeRange(sink, data, 30, 60)
    expect(await collect(sink.read(0, 60, signal))).toEqual(data)
  })

  it('resumes from committed range files of an earlier run (a reload), and starts empty when told not to', async () => {
    const root = new FakeDirectoryHandle(STAGING_DIR)
    const data = bytes(90)
    const first = await opfsSink(root, { kind: 'blob' }, 90)
    await writeRange(first, data, 0, 30)
    await writeRange(first, data, 60, 90)
    // Interrupted mid-range: written but never committed.
    const w = await first.writer(30, 60)
    await w.write(data.subarray(30, 40))
    await first.close()

    const again = await opfsSink(root, { kind: 'blob' }, 90)
    expect(again.resumed).toBe(true)
    expect(await collect(again.read(60, 90, signal))).toEqual(data.subarray(60, 90))
    await expect(collect(again.read(30, 60, signal))).rejects.toThrow()
    await writeRange(again, data, 30, 60)
    const { blob } = await again.finish(signal)
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(data)

    const fresh = await opfsSink(root, { kind: 'blob' }, 90, false, 'fp2')
    await writeRange(fresh, data, 0, 30)
    await fresh.close()
    const over = await opfsSink(root, { kind: 'blob' }, 90, false, 'fp2')
    expect(over.resumed).toBe(false)
    expect((await root.getDirectoryHandle('fp2')).children.size).toBe(0)
  })

  it('a Blob keeps its staging files (marked) and the next run of the same download starts over', async () => {
    const root = new FakeDirectoryHandle(STAGING_DIR)
    const data = bytes(50)
    const release = vi.fn()
    const keepForBlob = vi.fn(async () => {})
    const sink = await openOpfsSink({ kind: 'blob' }, { root: root.asHandle(), name: 'fp', size: 50, resume: true, release, keepForBlob })
    await writeRange(sink, data, 0, 50)
    const { blob } = await sink.finish(signal)
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(data)
    expect(keepForBlob).toHaveBeenCalledOnce()
    expect(release).toHaveBeenCalledOnce()
    const dir = await root.getDirectoryHandle('fp')
    expect(dir.children.has(BLOB_MARKER)).toBe(true)
    const next = await opfsSink(root, { kind: 'blob' }, 50, true, 'fp')
    expect(next.resumed).toBe(false)
  })

  it('delivers to a WritableStream in order, and discard() removes staging', async () => {
    const root = new FakeDirectoryHandle(STAGING_DIR)
    const data = bytes(3000)
    const got: Uint8Array[] = []
    const stream = new WritableStream<Uint8Array>({ write: (c) => void got.push(c.slice()) })
    const sink = await opfsSink(root, { kind: 'stream', stream }, 3000)
    await writeRange(sink, data, 1000, 3000)
    await writeRange(sink, data, 0, 1000)
    await sink.finish(signal)
    expect(await collect((async function* () { yield* got })())).toEqual(data)

    const other = await opfsSink(root, { kind: 'blob' }, 10, true, 'gone')
    await writeRange(other, data, 0, 10)
    await other.discard()
    expect(root.children.has('gone')).toBe(false)
  })
})

describe('memory staging', () => {
  it('stages, reads back and makes a Blob; never resumed', async () => {
    const data = bytes(100)
    const sink = memoryDownloadSink({ kind: 'blob' }, 100)
    expect(sink.resumed).toBe(false)
    await writeRange(sink, data, 50, 100)
    await writeRange(sink, data, 0, 50)
    expect(await collect(sink.read(10, 90, signal))).toEqual(data.subarray(10, 90))
    const { blob } = await sink.finish(signal)
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(data)
  })
})

describe('openBrowserSink', () => {
  const plan = (over: Partial<SinkPlan> = {}): SinkPlan => ({ fingerprint: 'abc', key: 'k', size: 1000, etag: '"e"', resume: true, ...over })
  afterEach(() => vi.unstubAllGlobals())

  it('without OPFS: memory up to maxBlobSize, above it file_too_large naming the fix', async () => {
    vi.stubGlobal('navigator', { storage: { getDirectory: () => Promise.reject(new DOMException('no', 'SecurityError')) } })
    const small = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 1000, signal })
    expect(small.resumed).toBe(false)
    const error = await openBrowserSink({ kind: 'blob' }, plan({ size: 1001 }), { maxBlobSize: 1000, signal }).catch((e: unknown) => e)
    expect(isValetError(error) && error.code).toBe('file_too_large')
    expect((error as Error).message).toMatch(/1001 bytes, above maxBlobSize \(1000\).*pass a FileSystemFileHandle or a WritableStream/)
  })

  it('OPFS without createWritable on the page (older Safari): memory staging', async () => {
    const top = new FakeDirectoryHandle('')
    vi.stubGlobal('navigator', { storage: { getDirectory: async () => top } })
    vi.stubGlobal('FileSystemFileHandle', class {})
    const sink = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 1000, signal })
    expect(top.children.size).toBe(0)
    await expect(openBrowserSink({ kind: 'blob' }, plan({ size: 1001 }), { maxBlobSize: 1000, signal })).rejects.toThrow(/maxBlobSize/)
    await sink.discard()
  })

  it('a download another tab is running (its lock held) is refused, naming the destination', async () => {
    const top = new FakeDirectoryHandle('')
    vi.stubGlobal('navigator', { storage: { getDirectory: async () => top } })
    const first = await openBrowserSink({ kind: 'handle', handle: new FakeFileHandle('a') as unknown as FileSystemFileHandle }, plan(), { maxBlobSize: 0, signal })
    const error = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 0, signal }).catch((e: unknown) => e)
    expect(isValetError(error) && error.code === 'invalid_option' && error.context).toMatchObject({ option: 'destination' })
    expect((error as Error).message).toMatch(/already being downloaded to that destination in another tab/)
    await first.close()
    // Released: the next run gets the directory, and resumes from it.
    const again = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 0, signal })
    await again.discard()
  })

  it('while a page holds the Blob of a finished run, the next run stages beside it; once released, the next one clears it', async () => {
    const top = new FakeDirectoryHandle('')
    vi.stubGlobal('navigator', { storage: { getDirectory: async () => top } })
    const data = bytes(1000)
    const first = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 0, signal })
    await writeRange(first, data, 0, 1000)
    const { blob } = await first.finish(signal)
    const staging = await top.getDirectoryHandle(STAGING_DIR)
    expect([...staging.children.keys()]).toEqual(['abc'])
    const second = await openBrowserSink({ kind: 'blob' }, plan(), { maxBlobSize: 0, signal })
    expect(second.resumed).toBe(false)
    const names = [...staging.children.keys()]
    expect(names).toHaveLength(2)
    expect(names.find((n) => n !== 'abc')).toMatch(/^abc\./)
    await second.close()
    expect([...staging.children.keys()]).toEqual(['abc'])
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(data)
  })
})

describe('prepareBrowserDestination', () => {
  const options = { maxBlobSize: 10 }
  it('names the destination for the fingerprint', () => {
    expect(prepareBrowserDestination(new FakeFileHandle('a.pdf') as unknown as FileSystemFileHandle, options).id).toBe('handle:a.pdf')
    expect(prepareBrowserDestination(new WritableStream(), options).id).toBe('stream')
    expect(prepareBrowserDestination(undefined, options).id).toBe('blob')
  })

  it('refuses anything else at once, naming the option', () => {
    for (const bad of ['./out.bin', null, {}, { kind: 'directory', name: 'd' }]) {
      let error: unknown
      try {
        prepareBrowserDestination(bad as never, options)
      } catch (e) {
        error = e
      }
      expect(isValetError(error) && error.code === 'invalid_option' && error.context).toMatchObject({ option: 'destination', owner: 'download()' })
    }
  })
})
