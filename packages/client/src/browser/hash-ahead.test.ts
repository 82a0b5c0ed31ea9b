import { describe, expect, it } from 'vitest'
import type { Hasher } from '../ports.js'
import { withHashAhead } from './hash-ahead.js'
import { PartRef, isPartRef, type BrowserBody } from './part-ref.js'

const MiB = 1024 * 1024
const live = new AbortController().signal

/** A hasher that records what it was asked and answers `start-end` when released. */
function recordingHasher() {
  const asked: string[] = []
  const waiting = new Map<string, () => void>()
  const hasher: Hasher<BrowserBody> = {
    md5(body) {
      const label = isPartRef(body) ? `${body.start / MiB}-${body.end / MiB}` : body instanceof Blob ? `blob:${body.size}` : `bytes:${body.byteLength}`
      asked.push(label)
      return new Promise((resolve) => waiting.set(label, () => resolve(label)))
    },
  }
  return { hasher, asked, release: (label: string) => waiting.get(label)?.() }
}

const part = (file: Blob, n: number, size = 2 * MiB) => new PartRef(file, (n - 1) * size, Math.min(file.size, n * size))

describe('hash-ahead', () => {
  it('starts the next parts of the same file when one is asked for, and hands out their results', async () => {
    const file = new Blob([new Uint8Array(9 * MiB)])
    const inner = recordingHasher()
    const hasher = withHashAhead(inner.hasher, { ahead: 2 })
    const first = hasher.md5(part(file, 1), live)
    expect(inner.asked).toEqual(['0-2', '2-4', '4-6'])
    inner.release('0-2')
    inner.release('2-4')
    expect(await first).toBe('0-2')
    // Part 2 was already hashing: no second request for it; the guess moves on to 6-8.
    const second = hasher.md5(part(file, 2), live)
    expect(await second).toBe('2-4')
    expect(inner.asked).toEqual(['0-2', '2-4', '4-6', '6-8'])
    // The last part is shorter: the guess stops at the end of the file.
    hasher.md5(part(file, 4), live)
    expect(inner.asked.at(-1)).toBe('8-9')
  })

  it('leaves small parts and plain Blobs alone', async () => {
    const file = new Blob([new Uint8Array(4 * MiB)])
    const inner = recordingHasher()
    const hasher = withHashAhead(inner.hasher, { ahead: 2 })
    void hasher.md5(new PartRef(file, 0, 64 * 1024), live)
    void hasher.md5(file.slice(0, 2 * MiB), live)
    expect(inner.asked).toEqual(['0-0.0625', `blob:${2 * MiB}`])
  })

  it('a pause (the asker’s signal) does not throw a guess away: the next ask gets it', async () => {
    const file = new Blob([new Uint8Array(6 * MiB)])
    const inner = recordingHasher()
    const hasher = withHashAhead(inner.hasher, { ahead: 1 })
    void hasher.md5(part(file, 1), live)
    const paused = new AbortController()
    const waiting = hasher.md5(part(file, 2), paused.signal)
    paused.abort(new Error('paused'))
    await expect(waiting).rejects.toThrow('paused')
    const again = hasher.md5(part(file, 2), live)
    inner.release('2-4')
    expect(await again).toBe('2-4')
    expect(inner.asked.filter((l) => l === '2-4')).toHaveLength(1)
  })
})
