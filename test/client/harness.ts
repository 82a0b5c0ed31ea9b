/**
 * What the client tests share: a real key endpoint (createValet + toNodeListener on node:http,
 * 127.0.0.1, mounted at /api/valet, bearer auth) that records every call, and storage providers
 * whose endpoint is a fault proxy in front of Swift or Azurite.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inject } from 'vitest'
import type { ResumeState, ResumeStore } from '@valet/client'
import { createValet, type StorageProvider, type ValetOptions } from '@valet/server'
import { toNodeListener } from '@valet/server/node'
import { s3 } from '@valet/server/s3'
import { azure } from '@valet/server/azure'
import { SECRET } from '../support/key-endpoint.js'
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from '../support/fault-proxy.js'
import type { StorageCase } from '../support/storages.js'

export const TOKEN = 'node-client-test-token'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

export type Operation = 'create' | 'sign' | 'list' | 'complete' | 'delete' | 'other'

/** One call the key endpoint answered. */
export interface KeyCall {
  op: Operation
  method: string
  path: string
  /** ms, when the server received it. */
  at: number
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request: any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  response: any
}

function operation(method: string, path: string): Operation {
  if (method === 'POST' && /\/uploads$/.test(path)) return 'create'
  if (method === 'POST' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'sign'
  if (method === 'GET' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'list'
  if (method === 'POST' && /\/uploads\/[^/]+\/complete$/.test(path)) return 'complete'
  if (method === 'DELETE' && /\/uploads\/[^/]+$/.test(path)) return 'delete'
  return 'other'
}

const parse = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return text
  }
}

export interface KeyServer {
  /** `http://127.0.0.1:PORT/api/valet` */
  endpoint: string
  port: number
  calls: KeyCall[]
  of(op: Operation): KeyCall[]
  close(): Promise<void>
}

export interface KeyServerHooks {
  /** Runs as a call arrives, before the endpoint handles it (e.g. to take the server down right then). */
  onCall?: (op: Operation, request: Request) => void
}

/** A real key endpoint on node:http for `storage`, recording each call with its JSON bodies. */
export async function startKeyServer(storage: StorageProvider, options: Partial<ValetOptions> = {}, hooks: KeyServerHooks = {}): Promise<KeyServer> {
  const valet = createValet({
    storage,
    secret: SECRET,
    authorize: (request) => (request.headers.get('authorization') === `Bearer ${TOKEN}` ? { id: 'node' } : null),
    onError: (error) => console.error('[valet client test] unexpected', error),
    ...options,
  })
  const calls: KeyCall[] = []
  const recording = {
    async fetch(request: Request): Promise<Response> {
      const at = Date.now()
      const path = new URL(request.url).pathname
      hooks.onCall?.(operation(request.method, path), request)
      const requestText = request.method === 'POST' ? await request.clone().text() : ''
      const response = await valet.fetch(request)
      const responseText = await response.clone().text()
      calls.push({ op: operation(request.method, path), method: request.method, path, at, status: response.status, request: parse(requestText), response: parse(responseText) })
      return response
    },
  }
  const listener = toNodeListener(recording)
  const handler = (req: Parameters<typeof listener>[0], res: Parameters<typeof listener>[1]): void => {
    if (req.url?.startsWith('/api/valet/')) return listener(req, res)
    res.statusCode = 404
    res.end('not here')
  }
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}/api/valet`,
    port,
    calls,
    of: (op) => calls.filter((c) => c.op === op),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A provider for `storage` whose endpoint is `endpoint` (the proxy's) instead of the storage's own. */
export function providerAt(storage: StorageCase['name'], endpoint?: string): StorageProvider {
  if (storage === 'swift') {
    const info = inject('swift')
    return s3({
      endpoint: endpoint ?? info.endpoint,
      region: info.region,
      bucket: info.bucket,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      forcePathStyle: true,
    })
  }
  const info = inject('azurite')
  return azure({ accountName: info.accountName, accountKey: info.accountKey, container: info.container, endpoint: endpoint ?? info.endpoint })
}

/** The storage's own endpoint (where the proxy forwards). */
export function storageEndpoint(storage: StorageCase['name']): string {
  return storage === 'swift' ? inject('swift').endpoint : inject('azurite').endpoint
}

/** A fault proxy in front of `storage` and a key server whose provider signs URLs naming the proxy. */
export async function proxiedStack(
  storage: StorageCase['name'],
  proxyOptions: Omit<FaultProxyOptions, 'target'> = {},
  valetOptions: Partial<ValetOptions> = {},
  hooks: KeyServerHooks = {},
): Promise<{ proxy: FaultProxy; keys: KeyServer; close(): Promise<void> }> {
  const target = storageEndpoint(storage)
  const proxy = await startFaultProxy({ ...proxyOptions, target: new URL(target).origin })
  const keys = await startKeyServer(providerAt(storage, proxy.endpointFor(target)), valetOptions, hooks)
  return {
    proxy,
    keys,
    async close() {
      await keys.close()
      await proxy.close()
    },
  }
}

/** Every complete call named exactly parts 1..partCount, each once. */
export function completeCallsNameEveryPart(keys: KeyServer): { ok: boolean; detail: string } {
  const created = keys.of('create').find((c) => c.status === 201)
  const partCount: number | undefined = created?.response?.partCount
  for (const call of keys.of('complete')) {
    const numbers = ((call.request?.parts ?? []) as { partNumber: number }[]).map((p) => p.partNumber).sort((a, b) => a - b)
    const expected = Array.from({ length: partCount ?? 0 }, (_, i) => i + 1)
    if (JSON.stringify(numbers) !== JSON.stringify(expected)) {
      return { ok: false, detail: `complete named parts [${numbers.join(',')}], plan has ${partCount}` }
    }
  }
  return { ok: true, detail: '' }
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
