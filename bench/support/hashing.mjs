// MD5 throughput of the two hashers the client ships: node:crypto (Node) and spark-md5 (the
// portable browser path), on part-sized buffers, one core.
import { createHash, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'

const MiB = 1024 * 1024
// spark-md5 is the client's dependency, not the root's: resolve it the way the client does.
const requireFromClient = createRequire(fileURLToPath(new URL('../../packages/client/package.json', import.meta.url)))

function rate(hashOnce, bytes, minMs) {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  do {
    hashOnce()
    n++
    elapsed = performance.now() - start
  } while (elapsed < minMs)
  return (n * bytes) / MiB / (elapsed / 1000)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** `{ partMiB, nodeCrypto, sparkMd5 }` in MiB/s: median of `reps` timed runs of ≥ `minMs` each. */
export function hashingBench({ partSize = 8 * MiB, reps = 5, minMs = 400 } = {}) {
  const SparkMD5 = requireFromClient('spark-md5')
  const buf = randomBytes(partSize)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const viaNode = () => createHash('md5').update(buf).digest('base64')
  const viaSpark = () => SparkMD5.ArrayBuffer.hash(ab)
  if (Buffer.from(viaSpark(), 'hex').toString('base64') !== viaNode()) throw new Error('spark-md5 and node:crypto disagree')
  const nodeRates = []
  const sparkRates = []
  // Interleaved so a burst of noise from a neighbour hits both hashers alike.
  for (let i = 0; i < reps; i++) {
    nodeRates.push(rate(viaNode, partSize, minMs))
    sparkRates.push(rate(viaSpark, partSize, minMs))
  }
  return { partMiB: partSize / MiB, nodeCrypto: median(nodeRates), sparkMd5: median(sparkRates) }
}
