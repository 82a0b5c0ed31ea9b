/**
 * Test-only: the msw server every client test file needs, started, reset and closed by vitest
 * hooks, with {@link fakeValet}s mounted on demand. Call once at the top of a test file.
 */
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { fakeValet, type FakeValetOptions } from './fake-valet.js'

export function useFakeValet(defaults: Partial<FakeValetOptions> = {}) {
  const server = setupServer()
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())
  return {
    server,
    /** A fresh fake key endpoint and storage, answering this file's requests until the test ends. */
    setup(options: Partial<FakeValetOptions> = {}) {
      const fake = fakeValet({ ...defaults, ...options })
      server.use(...fake.handlers)
      return fake
    },
  }
}
