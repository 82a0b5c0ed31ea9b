/**
 * What every suite's key endpoint shares: the secret, the real `createValet` with the suites'
 * defaults (`testValet`) and its `authorize` helpers, an in-process caller (`keyEndpoint`), and
 * the byte helpers (deterministic data, sha256, MD5). Over HTTP: key-server.ts.
 */
import { createHash } from 'node:crypto'
import { createValet, type StorageProvider, type Valet, type ValetOptions } from '@valet/server'

export const SECRET = 'test-secret-that-is-at-least-32-bytes-long'

/** `authorize` for `Authorization: Bearer <token>`, as principal `id`. */
export const bearer = (token: string, id: string): ValetOptions['authorize'] => (request) =>
  request.headers.get('authorization') === `Bearer ${token}` ? { id } : null

/** The `x-user` header as principal, or `fallback` (a CLI sends none unless told). */
export const byUserHeader = (fallback?: string): ValetOptions['authorize'] => (request) => {
  const id = request.headers.get('x-user') ?? fallback
  return id ? { id } : null
}

/** The real createValet with the suites' secret, x-user auth and loud unexpected errors. */
export function testValet(storage: StorageProvider, options: Partial<ValetOptions> = {}): Valet {
  return createValet({
    storage,
    secret: SECRET,
    authorize: byUserHeader(),
    onError: (error) => console.error('[valet test] unexpected', error),
    ...options,
  })
}

/**
 * A key endpoint on real storage, called in-process through `valet.fetch` with JSON helpers;
 * over HTTP, with a call log and hooks, see key-server.ts.
 */
export function keyEndpoint(storage: StorageProvider, options: Partial<ValetOptions> = {}) {
  const valet = testValet(storage, options)
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await valet.fetch(
      new Request(`http://127.0.0.1/api/valet${path}`, {
        method,
        headers: { 'x-user': 'alice', 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
    const text = await response.text()
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any }
  }
  return { valet, call }
}

export const md5base64 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Deterministic pseudo-random bytes: no fixtures in the repo, same data every run. */
export function generate(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
    out[i + 1] = (x >>> 8) & 0xff
    out[i + 2] = (x >>> 16) & 0xff
    out[i + 3] = (x >>> 24) & 0xff
  }
  return out
}
