/**
 * A budget of PUTs in flight shared by many files, handed out first come, first served: a
 * large file waiting for several slots is never overtaken by small files behind it.
 */
import { raceSignal } from './abort.js'

export class Slots {
  private free: number
  private readonly queue: { weight: number; grant: () => void }[] = []

  constructor(readonly capacity: number) {
    this.free = capacity
  }

  /** Slots taken now. */
  get busy(): number {
    return this.capacity - this.free
  }

  /** Resolves once `weight` slots (at most the capacity) are this caller's; rejects when `signal` aborts first. */
  acquire(weight: number, signal: AbortSignal): Promise<void> {
    const w = Math.min(weight, this.capacity)
    if (this.queue.length === 0 && this.free >= w) {
      this.free -= w
      return Promise.resolve()
    }
    let granted = false
    const entry = { weight: w, grant: () => {} }
    const turn = new Promise<void>((resolve) => {
      entry.grant = () => {
        granted = true
        resolve()
      }
    })
    this.queue.push(entry)
    return raceSignal(turn, signal).catch((e: unknown) => {
      // Gave up waiting: leave the queue, or hand back what was granted meanwhile.
      const at = this.queue.indexOf(entry)
      if (at >= 0) this.queue.splice(at, 1)
      if (granted) this.release(w)
      else this.next()
      throw e
    })
  }

  release(weight: number): void {
    this.free += Math.min(weight, this.capacity)
    this.next()
  }

  private next(): void {
    for (let head = this.queue[0]; head !== undefined && this.free >= head.weight; head = this.queue[0]) {
      this.queue.shift()
      this.free -= head.weight
      head.grant()
    }
  }
}
