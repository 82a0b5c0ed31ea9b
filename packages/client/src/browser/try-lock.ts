/**
 * Web Locks without waiting: staging directories are shared by every tab of the origin, and a
 * lock (released by the browser when its page goes, even on a crash) is how a tab tells the
 * others a directory is in use.
 */

// Where Web Locks are missing, a lock is only good within this page.
const localLocks = new Set<string>()

/**
 * Takes lock `name` if it is free: resolves its release function, or `undefined` when another
 * holder has it. A lock never released is held until the page goes.
 *
 * @example
 * ```ts
 * const release = await tryLock(`run:${fingerprint}`)
 * if (release === undefined) throw new Error('busy in another tab')
 * try { await work() } finally { release() }
 * ```
 */
export function tryLock(name: string): Promise<(() => void) | undefined> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks === undefined) {
    if (localLocks.has(name)) return Promise.resolve(undefined)
    localLocks.add(name)
    return Promise.resolve(() => void localLocks.delete(name))
  }
  return new Promise((resolve, reject) => {
    locks
      .request(`valet-download:${name}`, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(undefined)
          return undefined
        }
        // Held until this promise settles.
        return new Promise<void>((unlock) => resolve(() => unlock()))
      })
      .catch(reject)
  })
}

/**
 * Whether lock `name` is held now, without taking it: for the sweep, which must never make a
 * download starting at that moment find its lock busy.
 */
export async function isLocked(name: string): Promise<boolean> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks === undefined) return localLocks.has(name)
  const { held = [], pending = [] } = await locks.query()
  return [...held, ...pending].some((lock) => lock.name === `valet-download:${name}`)
}
