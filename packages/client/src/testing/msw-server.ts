/**
 * Test-only: the msw server every client test file needs, started, reset and closed by vitest
 * hooks, with {@link fakeValet}s mounted on demand. Call once at the top of a test file.
 */
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { fakeValet, type FakeValetOptions } from './fake-valet.js'

export function useFakeValet(defaults: Partial<FakeValetOptions> = {}) {
  const server = setupServer()
  const fakes: ReturnType<typeof fakeValet>[] = []
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => {
    server.resetHandlers()
    // A 500 from the real server is a bug the test would otherwise see only as a retry.
    const errors = fakes.splice(0).flatMap((fake) => fake.errors)
    expect(errors, 'unexpected errors in the key endpoint').toEqual([])
  })
  afterAll(() => server.close())
  return {
    server,
    /** A fresh fake key endpoint and storage, answering this file's requests until the test ends. */
    setup(options: Partial<FakeValetOptions> = {}) {
      const fake = fakeValet({ ...defaults, ...options })
      fakes.push(fake)
      server.use(...fake.handlers)
      return fake
    },
  }
}
