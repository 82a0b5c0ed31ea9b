// The key endpoint the valet variant talks to: the real server package on node:http, counted, so
// the report can say how many key round trips each part cost.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { createValet } from '../../packages/server/dist/index.js'
import { s3 } from '../../packages/server/dist/s3.js'
import { toNodeListener } from '../../packages/server/dist/node.js'

const zero = () => ({
  creates: 0,
  signCalls: 0,
  keysSigned: 0,
  completes: 0,
  // Downloads (issue 16): POST /downloads, POST /downloads/ranges and the read keys they signed.
  opens: 0,
  rangeCalls: 0,
  rangesSigned: 0,
  other: 0,
  storageCalls: {},
  ms: { creates: [], signCalls: [], completes: [], opens: [], rangeCalls: [] },
})

/** The s3 provider for the bench's Swift. */
export function swiftProvider(swift) {
  return s3({
    endpoint: swift.endpoint,
    region: swift.region,
    bucket: swift.bucket,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    forcePathStyle: true,
  })
}

function counted(storage, counts) {
  const wrapped = {}
  for (const [name, value] of Object.entries(storage)) {
    if (typeof value !== 'function') {
      wrapped[name] = value
      continue
    }
    wrapped[name] = (...args) => {
      const c = counts()
      if (name === 'signPart') c.keysSigned++
      else if (name === 'signRead') c.rangesSigned++
      else c.storageCalls[name] = (c.storageCalls[name] ?? 0) + 1
      return value.apply(storage, args)
    }
  }
  return wrapped
}

/**
 * `storage` replaces the Swift provider (the download section's Azurite endpoint); reading is on
 * (`canRead` lets the bench principal read everything), for the download section.
 * `{ principalFromToken: true }` (the bulk scenario) makes the bearer token the principal and keeps
 * the server's default object keys (`<principal>/<uniqueId>/<name>`): each run then lands under a
 * prefix of its own to list and delete, and creates are idempotent as they are in production.
 */
export async function startKeyServer(swift, { principalFromToken = false, storage: provider } = {}) {
  let counts = zero()
  const storage = provider ?? swiftProvider(swift)
  const perToken = {
    authorize: (request) => ({ id: (request.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '') || 'bench' }),
  }
  const valet = createValet({
    // Counting keys apart from calls shows re-signing (keys thrown away before use), which
    // calls alone would hide inside batches.
    // Every provider call the server makes (what the spent-token and write-once checks cost),
    // by method; signPart signs locally, without a request.
    storage: counted(storage, () => counts),
    secret: randomBytes(32).toString('hex'),
    canRead: () => true,
    ...(principalFromToken
      ? perToken
      : {
          authorize: () => ({ id: 'bench' }),
          objectKey: ({ file }) => `bench/valet/${randomBytes(8).toString('hex')}/${file.name}`,
        }),
  })
  const listener = toNodeListener(valet)
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    let route = 'other'
    if (req.method === 'POST' && /\/parts\/?$/.test(path)) route = 'signCalls'
    else if (req.method === 'POST' && /\/complete\/?$/.test(path)) route = 'completes'
    else if (req.method === 'POST' && /\/uploads(\/batch)?\/?$/.test(path)) route = 'creates'
    else if (req.method === 'POST' && /\/downloads\/ranges\/?$/.test(path)) route = 'rangeCalls'
    else if (req.method === 'POST' && /\/downloads\/?$/.test(path)) route = 'opens'
    const c = counts
    c[route]++
    // How long each key call took in the server (its storage calls included): where a small
    // file's time goes when the part PUT itself is short.
    const t0 = performance.now()
    if (route !== 'other') res.once('finish', () => c.ms[route].push(performance.now() - t0))
    listener(req, res)
  })
  // Part PUTs don't come here, but a stalled key call must not hold a socket forever.
  server.keepAliveTimeout = 5_000
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    endpoint: `http://127.0.0.1:${server.address().port}/api/valet`,
    /** Counts since the last call, then starts over. */
    take() {
      const taken = counts
      counts = zero()
      return taken
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
