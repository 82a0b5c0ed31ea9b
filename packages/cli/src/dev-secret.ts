/** The dev server's token secret: random per `--dir`, kept on disk so resumes survive restarts. */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const MIN_BYTES = 32

/**
 * Reads `<dir>/secret`, creating it (64 hex characters, mode 0600) when missing or too short.
 *
 * @example
 * ```ts
 * const secret = await loadOrCreateSecret('.valet') // same value on every restart
 * ```
 */
export async function loadOrCreateSecret(dir: string): Promise<string> {
  const file = join(dir, 'secret')
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  const trimmed = existing?.trim()
  if (trimmed !== undefined && Buffer.byteLength(trimmed) >= MIN_BYTES) return trimmed
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('hex')
  try {
    // `wx`: two dev servers started at once on one dir must agree on one secret.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: trimmed === undefined ? 'wx' : 'w' })
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  // Another process created it first and may still be writing it.
  for (let i = 0; i < 50; i++) {
    const theirs = (await readFile(file, 'utf8')).trim()
    if (Buffer.byteLength(theirs) >= MIN_BYTES) return theirs
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${file} holds no usable secret (at least ${MIN_BYTES} bytes); delete it to get a new one`)
}
