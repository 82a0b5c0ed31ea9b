/**
 * What the client tests share: the kit's key server (test/support/key-server.ts) with bearer
 * auth, behind which storage is reached through a fault proxy in front of Swift or Azurite.
 */
import type { ResumeState, ResumeStore } from '@valet/client'
import type { ValetOptions } from '@valet/server'
import { bearer } from '../support/key-endpoint.js'
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
): Promise<{ proxy: FaultProxy; keys: KeyServer; close(): Promise<void> }> {
  const target = storageEndpoint(storage)
  const proxy = await startFaultProxy({ ...proxyOptions, target: new URL(target).origin })
  const keys = await startKeyServer(providerAt(storage, proxy.endpointFor(target)), { authorize, ...valetOptions }, kit)
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
