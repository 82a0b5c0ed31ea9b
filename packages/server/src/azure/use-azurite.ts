/**
 * Test support (not part of the package): a real Azurite for the provider's tests. In the
 * integration project the global setup's Azurite is used (a fresh container per file); the unit
 * project has no global setup, so the file starts its own, strict-mode Azurite on a free port.
 * Azurite that cannot start fails the file, never skips it.
 */
import { createHash } from 'node:crypto'
import type { ContainerClient } from '@azure/storage-blob'
import type { SignedPart } from '@valet/protocol'
import { afterAll, beforeAll, inject } from 'vitest'
import { startAzurite } from '../../../../scripts/azurite/start.mjs'
import type { StorageProvider, UploadRef } from '../storage.js'
import { createClients } from './client.js'
import { normalizeAzureOptions, type AzureOptions } from './options.js'

export interface AzuriteContainer {
  options: AzureOptions
  /** The container through the provider's own client (account key, pinned service version). */
  container: ContainerClient
}

/** Registers `beforeAll`/`afterAll`; call the returned function inside tests. */
export function useAzurite(containerName: string): () => AzuriteContainer {
  let current: AzuriteContainer | undefined
  let stop: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const shared = (inject as (key: string) => unknown)('azurite') as { endpoint: string; accountName: string; accountKey: string } | undefined
    const server = shared ?? (await startAzurite({ container: containerName, cors: false }))
    if (!shared) stop = (server as Awaited<ReturnType<typeof startAzurite>>).stop
    const options: AzureOptions = { accountName: server.accountName, accountKey: server.accountKey, container: containerName, endpoint: server.endpoint }
    const { container } = createClients(normalizeAzureOptions(options))
    await container.createIfNotExists()
    current = { options, container }
  }, 60_000)
  afterAll(async () => {
    await stop?.()
  })
  return () => {
    if (!current) throw new Error('useAzurite: Azurite is not up (beforeAll failed)')
    return current
  }
}

/** Sends part `partNumber` of `ref` with a genuine key from `provider`, as a client would. */
export async function putPart(
  provider: StorageProvider,
  ref: UploadRef,
  partNumber: number,
  body: Uint8Array | string,
): Promise<{ status: number; etag: string; size: number }> {
  const bytes = new Uint8Array(typeof body === 'string' ? Buffer.from(body) : body)
  const md5 = createHash('md5').update(bytes).digest('base64')
  const key = await provider.signPart({ ...ref, partNumber, size: bytes.byteLength, md5, expiresAt: new Date(Date.now() + 60_000) })
  const res = await sendWithKey(key, bytes)
  return { status: res.status, etag: md5, size: bytes.byteLength }
}

/** Sends `body` with a signed key exactly as a client does: its method, URL and headers. */
export async function sendWithKey(key: SignedPart, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(key.url, { method: key.method, headers: { ...key.headers, ...headers }, body: new Uint8Array(typeof body === 'string' ? Buffer.from(body) : body) })
  await res.arrayBuffer()
  return res
}

/**
 * A genuine part key turned into another request on the same URL: `comp` and `blockid` dropped,
 * `query` added (e.g. `{ comp: 'metadata' }`), the SAS kept as signed. What a key holder would try.
 */
export function asOperation(keyUrl: string, query: Record<string, string> = {}, path?: string): string {
  const url = new URL(keyUrl)
  url.searchParams.delete('comp')
  url.searchParams.delete('blockid')
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
  if (path !== undefined) url.pathname = path
  return url.toString()
}

/** A genuine, unused part key for `ref` (part 1 of 1 byte), as the core would hand it out. */
export async function partKey(provider: StorageProvider, ref: UploadRef, partNumber = 1): Promise<string> {
  const md5 = createHash('md5').update('k').digest('base64')
  return (await provider.signPart({ ...ref, partNumber, size: 1, md5, expiresAt: new Date(Date.now() + 120_000) })).url
}
