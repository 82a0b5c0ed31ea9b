// Timeline of one upload, seen from outside the client: every HTTP request and every MD5 in the
// process. It answers "were the PUT slots busy, and if not, what was the client doing?" without
// touching the client's code. The cost is two clock reads per request and per hash call.
import crypto from 'node:crypto'
import http from 'node:http'
import { syncBuiltinESMExports } from 'node:module'
import { performance } from 'node:perf_hooks'

export function installTrace() {
  const puts = [] // [start, end] per storage PUT
  const posts = [] // [start, end] per key-endpoint call
  const hashes = [] // [start, end] per synchronous MD5 update/digest call
  let t0 = 0

  const request = http.request
  http.request = function tracedRequest(...args) {
    const req = request.apply(this, args)
    const span = [performance.now(), NaN]
    ;(req.method === 'PUT' ? puts : posts).push(span)
    const end = () => {
      if (Number.isNaN(span[1])) span[1] = performance.now()
    }
    req.once('response', (res) => res.once('end', end).once('close', end))
    req.once('error', end)
    return req
  }

  const createHash = crypto.createHash
  crypto.createHash = function tracedCreateHash(algorithm, ...rest) {
    const hash = createHash.call(this, algorithm, ...rest)
    if (String(algorithm).toLowerCase() !== 'md5') return hash
    for (const method of ['update', 'digest']) {
      const original = hash[method]
      hash[method] = function (...a) {
        const s = performance.now()
        try {
          return original.apply(this, a)
        } finally {
          hashes.push([s, performance.now()])
        }
      }
    }
    return hash
  }
  // ESM `import { createHash } from 'node:crypto'` binds to the builtin's export, which only
  // follows the patched property after this.
  syncBuiltinESMExports()

  return {
    start() {
      t0 = performance.now()
    },
    /** Milliseconds, relative to start(). */
    summary(totalMs) {
      const end = t0 + totalMs
      // Time spent with k PUTs in flight, k = 0..max: a sweep over start/end events.
      const events = puts.flatMap(([s, e]) => [[s, 1], [Number.isNaN(e) ? end : e, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
      const byInFlight = []
      let k = 0
      let last = t0
      for (const [t, d] of events) {
        byInFlight[k] = (byInFlight[k] ?? 0) + (t - last)
        k += d
        last = t
      }
      byInFlight[k] = (byInFlight[k] ?? 0) + Math.max(0, end - last)
      const hashMs = hashes.map(([s, e]) => e - s)
      const sum = (xs) => xs.reduce((a, b) => a + b, 0)
      return {
        firstPutMs: puts.length ? puts[0][0] - t0 : NaN,
        puts: puts.length,
        keyCalls: posts.length,
        keyCallMs: posts.map(([s, e]) => Math.round(e - s)),
        keyCallAtMs: posts.map(([s]) => Math.round(s - t0)),
        msByPutsInFlight: byInFlight.map((x) => Math.round(x ?? 0)),
        md5Calls: hashMs.length,
        md5TotalMs: Math.round(sum(hashMs)),
        md5MaxMs: Math.round(Math.max(0, ...hashMs)),
      }
    },
  }
}
