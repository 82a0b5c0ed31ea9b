import { open, type FileHandle } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { ValetError } from '@valet/protocol'
import type { FileSource } from '../ports.js'
import { FileRange, type NodeBody } from './file-range.js'

/**
 * A file on disk, read by ranges with one open handle. Parts are {@link FileRange}s: read in
 * chunks when hashed and again when sent, never a whole part (or the file) in memory.
 */
export async function openPathSource(path: string): Promise<FileSource<NodeBody>> {
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
      return new FileRange(handle, absolute, start, end, size)
    },
    async identity() {
      return { key: JSON.stringify(['path', absolute, size, lastModified]), samples: [] }
    },
    close: () => handle.close(),
  }
}
