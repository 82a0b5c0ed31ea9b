/** Node's ports for the engines: node:http through axios, node:crypto, files, JSON state stores. */
import { createHash } from 'node:crypto'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
// axios's self-contained build: the package's Node build loads its http adapter's dependencies
// (node-adapter.ts says which), and Valet brings its own adapter.
import axios from 'axios/dist/browser/axios.cjs'
import type { Platform } from '../create-uploader.js'
import * as engine from '../engine/engine.js'
import * as downloadEngine from '../download/download-engine.js'
import type { DownloadPlatform } from '../download/create-downloader.js'
import type { Transport } from '../ports.js'
import { createFileDownloadStore, defaultDownloadStateDir } from './file-download-store.js'
import { prepareNodeDestination } from './file-staging.js'
import { nodeRangeFetcher } from './node-range-fetcher.js'
import { createAxiosTransport } from '../http/axios-transport.js'
import { FileRange, type NodeBody } from './file-range.js'
import { nodeAdapter } from './node-adapter.js'
import { createFileResumeStore, defaultStateDir } from './file-resume-store.js'
import { nodeHasher } from './node-hasher.js'
import { prepareNodeSource, type NodeSource } from './prepare-node-source.js'

// File parts go out as their range, which the adapter reads again for each attempt; bytes as a
// Buffer view over the same memory.
function toBody(body: NodeBody): unknown {
  return body instanceof FileRange ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

function contentLength(body: NodeBody): number {
  return body instanceof FileRange ? body.size : body.byteLength
}

/**
 * Keep-alive pools of our own, not `globalAgent`: its keep-alive is a default since Node 19 that
 * an application may change, and an idle socket must be dropped before the server drops it (Node
 * servers: 5 s), or a reused socket can meet a reset. Unlimited sockets: each upload's
 * `concurrency` already bounds its PUTs.
 */
export function keepAliveAgents(): { http: HttpAgent; https: HttpsAgent } {
  const options = { keepAlive: true, timeout: 4000, scheduling: 'lifo' as const }
  return { http: new HttpAgent(options), https: new HttpsAgent(options) }
}

/** Node's download ports: the same key-endpoint transport, ranged GETs on their own keep-alive pools, files. */
export function nodeDownloadPlatform(transport: Transport): DownloadPlatform<string> {
  return {
    transport,
    fetcher: nodeRangeFetcher(keepAliveAgents()),
    md5: async () => {
      const hash = createHash('md5')
      return { update: (bytes) => void hash.update(bytes), digest: () => hash.digest('base64') }
    },
    defaults: {
      absoluteEndpoint: true,
      stateStore: (stateDir) => createFileDownloadStore(stateDir ?? defaultDownloadStateDir()),
    },
    prepareDestination: (destination, options) => prepareNodeDestination(destination, { fsync: options.fsync }),
    engine: async () => downloadEngine,
  }
}

/** One per entry module: every uploader (and so every upload and the CLI's files) shares its pools. */
export function nodePlatform(): Platform<NodeSource, NodeBody> {
  return {
    transport: createAxiosTransport({ axios, adapter: nodeAdapter(keepAliveAgents()), toBody, contentLength }),
    hasher: nodeHasher,
    defaults: {
      absoluteEndpoint: true,
      resumeStore: (stateDir) => createFileResumeStore(stateDir ?? defaultStateDir()),
    },
    prepareSource: prepareNodeSource,
    // Linked in: Node loads the engine with the entry.
    engine: async () => engine,
  }
}
