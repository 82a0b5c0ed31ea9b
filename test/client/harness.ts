/**
 * What the client tests share: the kit's key server (test/support/key-server.ts) with bearer
 * auth, behind which storage is reached through a fault proxy in front of Swift or Azurite.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ResumeState, ResumeStore } from '@valet/client'
import { MiB } from '@valet/protocol'
import { principalPrefix, type ValetOptions } from '@valet/server'
import { bearer, keyEndpoint, sha256 } from '../support/key-endpoint.js'
import { uploadThrough } from '../support/upload-through.js'
import { startKeyServer, type KeyServer, type KeyServerOptions } from '../support/key-server.js'
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from '../support/fault-proxy.js'
import { providerAt, storageEndpoint, type StorageCase } from '../support/storages.js'

export const TOKEN = 'node-client-test-token'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

/** The client suites' principal: `node`, for requests with {@link AUTH}. */
export const authorize = bearer(TOKEN, 'node')

/** A fault proxy in front of `storage` and a key server whose provider signs URLs naming the proxy. */
export async function proxiedStack(
  storage: StorageCase['name'],
  proxyOptions: Omit<FaultProxyOptions, 'target'> = {},
  valetOptions: Partial<ValetOptions> = {},
  kit: KeyServerOptions = {},
  provider: { singlePut?: boolean } = {},
): Promise<{ proxy: FaultProxy; keys: KeyServer; close(): Promise<void> }> {
  const target = storageEndpoint(storage)
  const proxy = await startFaultProxy({ ...proxyOptions, target: new URL(target).origin })
  const keys = await startKeyServer(providerAt(storage, proxy.endpointFor(target), provider), { authorize, ...valetOptions }, kit)
  return {
    proxy,
    keys,
    async close() {
      await keys.close()
      await proxy.close()
    },
  }
}

/**
 * {@link proxiedStack} plus a second fault proxy in front of the key server: the client's
 * `endpoint` names that proxy, so key-endpoint calls can be refused, reset, stalled or answered
 * 5xx on the way, and the key server taken away altogether (`keyProxy.down(ms)`).
 */
export async function keyProxiedStack(
  storage: StorageCase['name'],
  options: { storageProxy?: Omit<FaultProxyOptions, 'target'>; valet?: Partial<ValetOptions> } = {},
): Promise<{ proxy: FaultProxy; keyProxy: FaultProxy; keys: KeyServer; endpoint: string; close(): Promise<void> }> {
  const inner = await proxiedStack(storage, options.storageProxy, options.valet)
  const keyProxy = await startFaultProxy({ target: `http://127.0.0.1:${inner.keys.port}` })
  return {
    ...inner,
    keyProxy,
    endpoint: `${keyProxy.origin}${new URL(inner.keys.endpoint).pathname}`,
    async close() {
      await keyProxy.close()
      await inner.close()
    },
  }
}

/** A resume store the test can look into. */
export function inspectableStore(): ResumeStore & { states: Map<string, ResumeState> } {
  const states = new Map<string, ResumeState>()
  return {
    states,
    async get(fp) {
      const s = states.get(fp)
      return s && { ...s }
    },
    async set(fp, s) {
      states.set(fp, { ...s })
    },
    async remove(fp) {
      states.delete(fp)
    },
  }
}

// ---- Downloads (issue 16) ----

export const OTHER_TOKEN = 'node-client-other-token'
export const OTHER_AUTH = { authorization: `Bearer ${OTHER_TOKEN}` }

/** `node` for {@link AUTH}, `other` for {@link OTHER_AUTH}. */
const nodeOrOther: ValetOptions['authorize'] = (request) =>
  request.headers.get('authorization') === `Bearer ${OTHER_TOKEN}` ? { id: 'other' } : request.headers.get('authorization') === `Bearer ${TOKEN}` ? { id: 'node' } : null

/** The documented `canRead` for the default key layout: a principal reads its own uploads only. */
export const canReadOwn: NonNullable<ValetOptions['canRead']> = ({ principal, key }) => key.startsWith(`${principalPrefix(principal.id)}/`)

/**
 * {@link proxiedStack} for downloads: reading on ({@link canReadOwn}), principals `node` and
 * `other`, Azure single PUTs on (so a small upload is one PUT on both storages).
 */
export function downloadStack(storage: StorageCase['name'], proxyOptions: Omit<FaultProxyOptions, 'target'> = {}, valetOptions: Partial<ValetOptions> = {}) {
  return proxiedStack(storage, proxyOptions, { authorize: nodeOrOther, canRead: canReadOwn, ...valetOptions }, {}, { singlePut: true })
}

/** An object put where principal `node` may read it, and what it should read back as. */
export interface Stored {
  key: string
  size: number
  sha256: string
}

/**
 * Puts `bytes` in storage as principal `node`, straight to storage (no proxy, in-process key
 * endpoint): `multipart` and `single` as a Valet upload leaves them (a part manifest; one PUT
 * whose MD5 storage recorded), `direct` written with the storage's own credentials in one PUT, as
 * an object Valet did not upload (S3 still records its MD5 as its ETag), `direct-parts` the same
 * in parts (S3 multipart, Azure blocks: no MD5 anywhere).
 */
export async function putForDownload(storage: StorageCase, bytes: Uint8Array, how: 'multipart' | 'single' | 'direct' | 'direct-parts', partSize = 5 * MiB): Promise<Stored> {
  if (how === 'direct' || how === 'direct-parts') {
    const key = `${principalPrefix('node')}/${randomUUID()}/${how}.bin`
    if (how === 'direct') await storage.write(key, bytes)
    else await storage.writeInParts(key, bytes, partSize)
    return { key, size: bytes.byteLength, sha256: sha256(bytes) }
  }
  const { call } = keyEndpoint(providerAt(storage.name, undefined, { singlePut: true }))
  const up = await uploadThrough(call, 'node', bytes, { partSize, md5: how === 'single', name: `${how}.bin` })
  if (up.mode !== how) throw new Error(`asked for a ${how} upload, got ${up.mode}`)
  return { key: up.key, size: bytes.byteLength, sha256: sha256(bytes) }
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Fresh temp directories, removed by `cleanup()`. */
export function tempDirs(prefix = 'valet-dl-test-'): { make(): string; cleanup(): void } {
  const made: string[] = []
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      made.push(dir)
      return dir
    },
    cleanup() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until `check()` holds, polling; fails with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
