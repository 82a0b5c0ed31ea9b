/** Node's ports for the engine: node:http through axios, node:crypto, files, a JSON resume store. */
import type { Platform } from '../create-uploader.js'
import * as engine from '../engine/engine.js'
import { createAxiosTransport } from '../http/axios-transport.js'
import { FileRange, type NodeBody } from './file-range.js'
import { createFileResumeStore, defaultStateDir } from './file-resume-store.js'
import { nodeHasher } from './node-hasher.js'
import { prepareNodeSource, type NodeSource } from './prepare-node-source.js'

// File parts go out as a fresh stream of their range (a retry reads the file again); bytes as a
// Buffer view over the same memory, which axios's http adapter sends as it is.
function toBody(body: NodeBody): unknown {
  return body instanceof FileRange ? body.stream() : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

function contentLength(body: NodeBody): number {
  return body instanceof FileRange ? body.size : body.byteLength
}

export function nodePlatform(): Platform<NodeSource, NodeBody> {
  return {
    transport: createAxiosTransport({ adapter: 'http', toBody, contentLength }),
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
