/**
 * One download at a time per destination file, across processes: `<destination>.valet-lock`,
 * created exclusively, names the process that holds it. Two runs sharing a partial file would
 * otherwise write into each other's bytes (one restarting on a replaced object truncates what the
 * other is about to rename as verified). A lock whose process is gone from this machine (a
 * `kill -9`, a crash) is taken over; one from another host, or a live process, is not.
 */
import { randomUUID } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { ValetError } from '@valet/protocol'

/** The lock file of a download to `destination`. */
export function lockPath(destination: string): string {
  return `${destination}.valet-lock`
}

/** A lock file with no readable owner younger than this may still be being written. */
const UNREADABLE_GRACE_MS = 10_000

interface Owner {
  pid: number
  host: string
  since: string
}

/** Locks this process holds, removed on a plain `process.exit()` too. */
const held = new Set<string>()
let exitHook = false

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists, it is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function ownerOf(path: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Owner
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

/** Whether the lock at `path` is left over by a process that is gone; undefined: no lock there. */
async function stale(path: string): Promise<{ stale: boolean; owner?: Owner } | undefined> {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) return undefined
  const owner = await ownerOf(path)
  if (owner === undefined) return { stale: Date.now() - info.mtimeMs > UNREADABLE_GRACE_MS }
  return { stale: owner.host === hostname() && owner.pid !== process.pid && !alive(owner.pid), owner }
}

async function create(path: string): Promise<boolean> {
  const file = await open(path, 'wx').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') return undefined
    throw e
  })
  if (file === undefined) return false
  try {
    await file.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() } satisfies Owner))
  } finally {
    await file.close()
  }
  return true
}

function busy(destination: string, path: string, owner: Owner | undefined): ValetError {
  const who = owner === undefined ? 'another run' : owner.pid === process.pid && owner.host === hostname() ? 'this process' : `process ${owner.pid} on ${owner.host}`
  return new ValetError(
    'invalid_option',
    `download(): ${destination} is already being downloaded by ${who}; wait for it, or pick another destination (if no such run is left, delete ${path})`,
    { context: { option: 'destination', owner: 'download()' } },
  )
}

/**
 * Takes the lock of a download to `destination` (an absolute path), or throws `invalid_option`
 * naming its holder. Resolves the function that releases it.
 *
 * @example
 * ```ts
 * const release = await lockDestination('/data/report.pdf')
 * try { await download() } finally { await release() }
 * ```
 */
export async function lockDestination(destination: string): Promise<() => Promise<void>> {
  const path = lockPath(destination)
  if (!(await create(path))) {
    const found = await stale(path)
    if (found !== undefined && !found.stale) throw busy(destination, path, found.owner)
    // Taken over by moving it aside and checking what moved: a run that found the same stale
    // lock may have replaced it with its own meanwhile, which goes back, and this run is the one
    // that waits.
    if (found !== undefined) {
      const aside = `${path}.${process.pid}-${randomUUID()}.stale`
      if (await rename(path, aside).then(() => true, () => false)) {
        const moved = await ownerOf(aside)
        const same = found.owner === undefined ? moved === undefined : moved?.pid === found.owner.pid && moved.since === found.owner.since
        if (!same) {
          await rename(aside, path).catch(() => {})
          throw busy(destination, path, moved)
        }
        await rm(aside, { force: true })
      }
    }
    if (!(await create(path))) throw busy(destination, path, await ownerOf(path))
  }
  held.add(path)
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => {
      for (const p of held) {
        try {
          unlinkSync(p)
        } catch {
          // gone already
        }
      }
    })
  }
  let released = false
  return async () => {
    if (released) return
    released = true
    held.delete(path)
    await rm(path, { force: true })
  }
}
