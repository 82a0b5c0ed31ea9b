import { describe, expect, it } from 'vitest'
import { HeldUploads } from './held-uploads.js'

const never = new AbortController().signal

describe('HeldUploads.afterRefusal', () => {
  it('asks again at once when one of ours ended after the refused create was sent', async () => {
    const held = new HeldUploads()
    const end = held.hold()
    const before = held.ended
    end()
    await expect(held.afterRefusal(before, never)).resolves.toBe(true)
  })

  it('fails when nothing of ours is open or being created: the cap is someone else’s', async () => {
    const held = new HeldUploads()
    held.creating()() // a create that settled without a hold
    await expect(held.afterRefusal(held.ended, never)).resolves.toBe(false)
  })

  it('waits while ours are open, and asks again when one ends', async () => {
    const held = new HeldUploads()
    const end = held.hold()
    let answer: boolean | undefined
    void held.afterRefusal(held.ended, never).then((a) => (answer = a))
    held.creating()() // another create settling is not an end: still waiting
    await Promise.resolve()
    expect(answer).toBeUndefined()
    end()
    await new Promise((r) => setTimeout(r, 0))
    expect(answer).toBe(true)
  })

  it('a sibling create still settling may take a hold: wait for it, then for its end', async () => {
    const held = new HeldUploads()
    const settle = held.creating()
    let answer: boolean | undefined
    void held.afterRefusal(held.ended, never).then((a) => (answer = a))
    const end = held.hold()
    settle()
    await new Promise((r) => setTimeout(r, 0))
    expect(answer).toBeUndefined()
    end()
    await new Promise((r) => setTimeout(r, 0))
    expect(answer).toBe(true)
  })

  it('rejects with the abort reason', async () => {
    const held = new HeldUploads()
    held.hold()
    const ac = new AbortController()
    const waiting = held.afterRefusal(held.ended, ac.signal)
    ac.abort(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
  })
})
