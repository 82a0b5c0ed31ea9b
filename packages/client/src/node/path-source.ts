import { open, type FileHandle } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { ValetError } from '@valet/protocol'
import type { FileSource } from '../ports.js'

function changed(path: string, detail: string): ValetError {
  return new ValetError('invalid_source', `${path} changed during the upload: ${detail}`, { context: { path } })
}

/**
 * A file on disk, read by ranges with one open handle: a part is read when it is hashed and again
 * when it is sent, never the whole file.
 */
export async function openPathSource(path: string): Promise<FileSource> {
  const absolute = resolve(path)
  let handle: FileHandle
  try {
    handle = await open(absolute, 'r')
  } catch (e) {
    throw new ValetError('invalid_source', `cannot open ${absolute}: ${(e as Error).message}`, { cause: e, context: { path: absolute } })
  }
  const stats = await handle.stat()
  if (!stats.isFile()) {
    await handle.close()
    throw new ValetError('invalid_source', `${absolute} is not a regular file`, { context: { path: absolute } })
  }
  const size = stats.size
  const lastModified = Math.floor(stats.mtimeMs)
  return {
    name: basename(absolute),
    size,
    type: '',
    lastModified,
    access: 'random',
    async read(start, end) {
      const buffer = Buffer.allocUnsafe(end - start)
      let filled = 0
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled)
        if (bytesRead === 0) throw changed(absolute, `it ended before byte ${start + filled} of ${size}`)
        filled += bytesRead
      }
      return buffer
    },
    async identity() {
      return { key: JSON.stringify(['path', absolute, size, lastModified]), samples: [] }
    },
    close: () => handle.close(),
  }
}
