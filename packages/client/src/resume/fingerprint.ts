import { base64ToHex } from '@valet/protocol'
import type { FileSource, Hasher } from '../ports.js'

/**
 * The resume key of a source: hex MD5 of the endpoint, the source's identity (absolute path or
 * name, size, lastModified) and the MD5 of its samples. `undefined` for sources that can't be
 * read again (streams), which are never resumed across processes.
 *
 * Cheap by design: it never reads the whole file; a file edited in the middle without changing
 * size or mtime is caught later, part by part, when the stored parts' etags are checked.
 */
export async function fingerprint<B>(endpoint: string, source: FileSource<B>, hasher: Hasher<B>, signal: AbortSignal): Promise<string | undefined> {
  const identity = await source.identity()
  if (identity === undefined) return undefined
  const samples: string[] = []
  for (const sample of identity.samples) samples.push(await hasher.md5(sample, signal))
  const text = JSON.stringify(['valet-fingerprint-1', endpoint, identity.key, samples])
  return base64ToHex(await hasher.md5(new TextEncoder().encode(text), signal))
}
