// One measured download in a process of its own, so peak RSS belongs to this client alone.
// Job in env BENCH_JOB (JSON); result as one JSON line on stdout. The file is left at
// `job.dest` for the harness to check (size, sha256) and delete.
import fs from 'node:fs'
import http from 'node:http'
import { pipeline } from 'node:stream/promises'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

const job = JSON.parse(process.env.BENCH_JOB ?? '{}')

// Everything a variant imports is loaded before the clock starts (as in bench/child.mjs).
const variants = {
  /** One GET of the whole object (presigned S3 URL or Azure SAS), streamed to the file: the ceiling. */
  async 'raw-get'() {
    return () =>
      new Promise((resolve, reject) => {
        const req = http.request(job.url, { method: 'GET', headers: job.headers ?? {} }, (res) => {
          if (res.statusCode !== 200) {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (c) => (body += c))
            res.on('end', () => reject(new Error(`GET: HTTP ${res.statusCode} ${body.slice(0, 300)}`)))
            return
          }
          pipeline(res, fs.createWriteStream(job.dest)).then(() => {
            // `fsync`: the file's bytes on disk before the clock stops, as valet's downloader with
            // `fsync: true` has them before its rename.
            let syncMs
            if (job.fsync) {
              const t = performance.now()
              const fd = fs.openSync(job.dest, 'r+')
              fs.fsyncSync(fd)
              fs.closeSync(fd)
              syncMs = performance.now() - t
            }
            resolve({ etag: res.headers.etag, size: fs.statSync(job.dest).size, ...(syncMs === undefined ? {} : { syncMs }) })
          }, reject)
        })
        req.on('error', reject)
        req.end()
      })
  },

  /**
   * A reference, not a product: the leanest parallel ranged download on bare node:http, to tell
   * what this store's ranged GETs cost apart from what a client adds. `concurrency` workers each
   * take the next range (the object's parts), GET it with a `Range` header on the one presigned
   * URL and stream it into the file at its offset. No checksum, no fsync.
   */
  async 'raw-ranges'() {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency })
    const getRange = (start, end) =>
      new Promise((resolve, reject) => {
        const req = http.request(job.url, { method: 'GET', agent, headers: { range: `bytes=${start}-${end - 1}` } }, (res) => {
          if (res.statusCode !== 206) {
            res.resume()
            return reject(new Error(`GET bytes=${start}-${end - 1}: HTTP ${res.statusCode}`))
          }
          pipeline(res, fs.createWriteStream(job.dest, { flags: 'r+', start })).then(resolve, reject)
        })
        req.on('error', reject)
        req.end()
      })
    return async () => {
      fs.closeSync(fs.openSync(job.dest, 'w'))
      fs.truncateSync(job.dest, job.size)
      let next = 0
      const worker = async () => {
        for (let start = next; start < job.size; start = next) {
          next += job.rangeSize
          await getRange(start, Math.min(job.size, start + job.rangeSize))
        }
      }
      await Promise.all(Array.from({ length: job.concurrency }, worker))
      agent.destroy()
      return { size: fs.statSync(job.dest).size }
    }
  },

  /** Valet's Node downloader from the build, against the bench's key endpoint (canRead on). */
  async valet() {
    const { createDownloader } = await import('../packages/client/dist/index.node.js')
    if (typeof createDownloader !== 'function') throw new Error('@valet/client (dist) has no createDownloader: merge main and pnpm run build')
    const downloader = createDownloader({
      endpoint: job.endpoint,
      ...(job.concurrency === undefined ? {} : { concurrency: job.concurrency }),
      ...(job.rangeSize === undefined ? {} : { rangeSize: job.rangeSize }),
      ...(job.fsync === true ? { fsync: true } : {}),
      headers: { authorization: 'Bearer bench' },
      // The default (resume on), with its state kept out of the user's home directory.
      stateDir: job.stateDir,
    })
    return async () => {
      let ranges = 0
      const onProgress = (p) => (ranges = p.rangesTotal || ranges)
      const result = await downloader.download(job.key, job.dest, { onProgress }).done
      if (result.size !== job.size) throw new Error(`valet reported ${result.size} bytes, expected ${job.size}`)
      return { etag: result.etag, size: result.size, verified: result.verified, ranges, concurrency: job.concurrency ?? 4 }
    }
  },

  /** @azure/storage-blob's BlobClient.downloadToFile with its defaults, shared-key auth. */
  async 'azure-sdk'() {
    const { BlobServiceClient, StorageSharedKeyCredential, newPipeline } = await import('@azure/storage-blob')
    const { azurite } = job
    // The SDK's defaults, but for the service version: it sends its own (2026-04-06 in 12.32),
    // which Azurite 3.35 refuses; pinned the way the azure provider does (packages/server/src/azure/client.ts).
    const pipeline = newPipeline(new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey))
    pipeline.factories.push({ create: (next) => ({ sendRequest: (request) => (request.headers.set('x-ms-version', job.serviceVersion), next.sendRequest(request)) }) })
    const blob = new BlobServiceClient(azurite.endpoint, pipeline).getContainerClient(azurite.container).getBlobClient(job.key)
    return async () => {
      const res = await blob.downloadToFile(job.dest)
      return { etag: res.etag, size: fs.statSync(job.dest).size }
    }
  },
}

const prepare = variants[job.kind]
if (!prepare) throw new Error(`unknown download variant kind ${job.kind}`)
const run = await prepare()

const loop = monitorEventLoopDelay({ resolution: 10 })
let peakArrayBuffers = 0
const sampler = setInterval(() => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers)
}, 100)
const rssBefore = process.memoryUsage().rss
const cpuBefore = process.cpuUsage()
loop.enable()

const started = performance.now()
const outcome = await run()
const ms = performance.now() - started

loop.disable()
clearInterval(sampler)
const cpu = process.cpuUsage(cpuBefore)
process.stdout.write(
  JSON.stringify({
    ...outcome,
    ms,
    // The kernel's high-water mark (KiB): the page cache the file writes fill is not in it.
    maxRss: process.resourceUsage().maxRSS * 1024,
    rssBefore,
    peakArrayBuffers,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayMaxMs: loop.max / 1e6,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
  }) + '\n',
)
process.exit(0)
