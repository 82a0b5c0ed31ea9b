// Test files for the benchmark: pseudo-random so no layer can compress or deduplicate them,
// deterministic so their sha256 is the same on every run and machine.
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, open, writeFile } from 'node:fs/promises'

const CHUNK = 8 * 1024 * 1024
// AES-CTR over zeros is a keyed PRNG that runs at GB/s with AES-NI: generating 2 GiB costs
// seconds, and memory stays at one chunk.
const KEY = Buffer.alloc(32, 0x5a)
const IV = Buffer.alloc(16, 0)

/** Writes `size` pseudo-random bytes to `file`; resolves with their sha256 (hex). */
export async function generateFile(file, size) {
  const cipher = createCipheriv('aes-256-ctr', KEY, IV)
  const zeros = Buffer.alloc(CHUNK)
  const hash = createHash('sha256')
  const handle = await open(file, 'w')
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(CHUNK, size - done)
      const chunk = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n))
      hash.update(chunk)
      for (let written = 0; written < chunk.length; ) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written)
        written += bytesWritten
      }
      done += n
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

/** `count` files of `size` pseudo-random bytes in `dir` (f000000.bin, …), each different: no layer can deduplicate them. */
export async function generateFiles(dir, count, size) {
  await mkdir(dir, { recursive: true })
  const zeros = Buffer.alloc(size)
  for (let i = 0; i < count; i++) {
    // A counter block per file: the same bytes on every run, no two files alike.
    const iv = Buffer.alloc(16)
    iv.writeUInt32BE(i + 1, 0)
    await writeFile(`${dir}/f${String(i).padStart(6, '0')}.bin`, createCipheriv('aes-256-ctr', KEY, iv).update(zeros))
  }
}
