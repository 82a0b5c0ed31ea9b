import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpResponse } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import { createUploader, type UploadProgress } from '../index.node.js'
import { ENDPOINT, testBytes } from '../testing/fake-valet.js'
import { useFakeValet } from '../testing/msw-server.js'
import { nodeHasher } from './node-hasher.js'
import { openPathSource } from './path-source.js'

const { setup } = useFakeValet()
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const MiB = 1024 * 1024
const live = new AbortController().signal
const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex')

function file(data: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'valet-path-'))
  dirs.push(dir)
  const path = join(dir, 'data.bin')
  writeFileSync(path, data)
  return path
}

const uploader = () => createUploader({ endpoint: ENDPOINT, resume: false, concurrency: 3, retryDelay: 1, maxRetryDelay: 5, progressInterval: 0 })

describe('file path parts (read in chunks, streamed)', () => {
  it('hashes a range larger than one read chunk like a hash of its bytes', async () => {
    const data = testBytes(3 * MiB + 123)
    const source = await openPathSource(file(data))
    try {
      const range = await source.read(100, 3 * MiB + 100, live)
      expect(await nodeHasher.md5(range, live)).toBe(createHash('md5').update(data.subarray(100, 3 * MiB + 100)).digest('base64'))
    } finally {
      await source.close()
    }
  })

  it('uploads a file path with progress, and a retried part sends its range again', async () => {
    const partSize = 5 * MiB
    const fake = setup({ partSize })
    fake.options.onPut = ({ partNumber, attempt }) => (partNumber === 2 && attempt === 1 ? new HttpResponse('busy', { status: 503 }) : undefined)
    const data = testBytes(3 * partSize + 1000)
    const events: UploadProgress[] = []
    await uploader().upload(file(data), { onProgress: (p) => events.push(p) }).done
    const parts = [...(fake.uploads.get('up-1')?.parts.entries() ?? [])].sort(([a], [b]) => a - b)
    expect(parts.map(([, p]) => p.etag)).toEqual(
      [0, 1, 2, 3].map((i) => `"${md5hex(data.subarray(i * partSize, Math.min(data.length, (i + 1) * partSize)))}"`),
    )
    expect(fake.stats.puts.get(2)).toBe(2)
    expect(events.at(-1)).toMatchObject({ bytesSent: data.length, partsDone: 4, phase: 'complete' })
    // Per-request progress from the streamed body, not only a jump per finished part.
    expect(events.some((e) => e.bytesSent % partSize !== 0 && e.bytesSent < data.length)).toBe(true)
  })

  it('fails typed when the file shrinks after its parts were hashed', async () => {
    const fake = setup({ partSize: 5 * MiB })
    const path = file(testBytes(12 * MiB))
    fake.options.onEndpoint = (op) => {
      if (op === 'sign') truncateSync(path, 6 * MiB)
      return undefined
    }
    await expect(uploader().upload(path).done).rejects.toMatchObject({ code: 'invalid_source', message: expect.stringContaining('changed') })
  })

  it('fails typed when the bytes change after hashing: storage refuses them (BadDigest)', async () => {
    const fake = setup({ partSize: 5 * MiB })
    const data = testBytes(6 * MiB)
    const path = file(data)
    fake.options.onEndpoint = (op) => {
      if (op === 'sign') writeFileSync(path, testBytes(6 * MiB, 2))
      return undefined
    }
    await expect(uploader().upload(path).done).rejects.toMatchObject({ code: 'retries_exhausted', cause: { code: 'storage_rejected' } })
    expect(fake.uploads.get('up-1')?.parts.size).toBe(0)
  })
})
