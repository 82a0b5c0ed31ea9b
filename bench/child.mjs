// One measured upload in a process of its own, so peak RSS belongs to this client alone.
// Job in env BENCH_JOB (JSON); result as one JSON line on stdout.
import fs from 'node:fs'
import http from 'node:http'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

const job = JSON.parse(process.env.BENCH_JOB ?? '{}')
// Installed before any client module loads, so the client's own bindings see the patches.
const trace = job.trace ? (await import('./support/trace.mjs')).installTrace() : undefined

// Everything a variant imports is loaded before the clock starts: module loading is a
// start-up cost, not upload throughput.
const variants = {
  async raw() {
    return () =>
      new Promise((resolve, reject) => {
        const req = http.request(job.url, { method: 'PUT', headers: { 'content-length': String(job.size) } }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c) => (body += c))
          res.on('end', () => (res.statusCode === 200 ? resolve({ key: job.key, etag: res.headers.etag }) : reject(new Error(`PUT: HTTP ${res.statusCode} ${body.slice(0, 300)}`))))
        })
        req.on('error', reject)
        const file = fs.createReadStream(job.file)
        file.on('error', (e) => req.destroy(e))
        file.pipe(req)
      })
  },

  async valet() {
    const { createUploader } = await import('../packages/client/dist/index.node.js')
    // Absent options stay absent: the defaults are a variant of their own.
    const uploader = createUploader({
      endpoint: job.endpoint,
      ...(job.concurrency === undefined ? {} : { concurrency: job.concurrency }),
      ...(job.partSize === undefined ? {} : { partSize: job.partSize }),
      checksum: 'md5',
      headers: { authorization: 'Bearer bench' },
      // The default (resume on), with its state kept out of the user's home directory.
      stateDir: job.stateDir,
    })
    return async () => {
      // The plan the server chose, for the memory bound (concurrency × part size).
      let partSize = 0
      const onProgress = (p) => (partSize = p.partSize || partSize)
      const result = await uploader.upload(job.file, { type: 'application/octet-stream', onProgress }).done
      if (result.size !== job.size) throw new Error(`valet reported ${result.size} bytes, expected ${job.size}`)
      return { key: result.key, etag: result.etag, partSize, concurrency: job.concurrency ?? 4 }
    }
  },

  async 'lib-storage'() {
    const { S3Client } = await import('@aws-sdk/client-s3')
    const { Upload } = await import('@aws-sdk/lib-storage')
    const client = new S3Client({
      endpoint: job.swift.endpoint,
      region: job.swift.region,
      forcePathStyle: true,
      credentials: { accessKeyId: job.swift.accessKeyId, secretAccessKey: job.swift.secretAccessKey },
      // The SDK's default CRC32 trailers aren't what this store (or many S3-compatibles) accepts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    return async () => {
      const upload = new Upload({
        client,
        params: { Bucket: job.swift.bucket, Key: job.key, Body: fs.createReadStream(job.file) },
        ...(job.partSize === undefined ? {} : { partSize: job.partSize }),
        ...(job.concurrency === undefined ? {} : { queueSize: job.concurrency }),
      })
      const out = await upload.done()
      client.destroy()
      return { key: job.key, etag: out.ETag }
    }
  },
}

// Diagnostic, not a product: the leanest multipart client I could write on node:http, to
// separate what the store's multipart path costs from what a client adds. Each worker hashes
// its own part just before sending it (streamed, 1 MiB reads) and streams the part from its
// file range, so nothing part-sized is ever allocated and the event loop is never blocked long.
variants.mpu = async () => {
  const { createHash } = await import('node:crypto')
  const { signV4 } = await import('../scripts/swift/start.mjs')
  const { swift } = job
  const creds = { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey, region: swift.region }
  const base = `${swift.endpoint}/${swift.bucket}/${job.key.split('/').map(encodeURIComponent).join('/')}`
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency + 1 })
  const call = (method, url, headers, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => (text += c))
        res.on('end', () => (res.statusCode === 200 ? resolve({ headers: res.headers, text }) : reject(new Error(`${method}: HTTP ${res.statusCode} ${text.slice(0, 300)}`))))
      })
      req.on('error', reject)
      if (body && typeof body.pipe === 'function') body.pipe(req)
      else req.end(body)
    })
  const md5Of = (start, end) =>
    new Promise((resolve, reject) => {
      const hash = createHash('md5')
      fs.createReadStream(job.file, { start, end: end - 1, highWaterMark: 1024 * 1024 })
        .on('data', (c) => hash.update(c))
        .on('end', () => resolve(hash.digest('base64')))
        .on('error', reject)
    })
  return async () => {
    const created = signV4({ method: 'POST', url: `${base}?uploads=`, ...creds })
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await call('POST', created.url, created.headers)).text)[1]
    const count = Math.ceil(job.size / job.partSize)
    const etags = []
    let next = 1
    const worker = async () => {
      for (let n = next++; n <= count; n = next++) {
        const start = (n - 1) * job.partSize
        const end = Math.min(job.size, start + job.partSize)
        const headers = { 'content-length': String(end - start) }
        if (job.md5) headers['content-md5'] = await md5Of(start, end)
        const url = new URL(base)
        url.searchParams.set('partNumber', String(n))
        url.searchParams.set('uploadId', uploadId)
        const signed = signV4({ method: 'PUT', url: url.toString(), headers, expires: 900, ...creds })
        const res = await call('PUT', signed.url, { ...headers }, fs.createReadStream(job.file, { start, end: end - 1 }))
        etags[n] = res.headers.etag
      }
    }
    await Promise.all(Array.from({ length: job.concurrency }, worker))
    const xml = `<CompleteMultipartUpload>${etags.map((e, n) => (e ? `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>` : '')).join('')}</CompleteMultipartUpload>`
    const done = signV4({ method: 'POST', url: `${base}?uploadId=${encodeURIComponent(uploadId)}`, body: xml, ...creds })
    const res = await call('POST', done.url, done.headers, xml)
    if (!/<ETag>/.test(res.text)) throw new Error(`complete: ${res.text.slice(0, 300)}`)
    agent.destroy()
    return { key: job.key, etag: /<ETag>([^<]+)<\/ETag>/.exec(res.text)[1] }
  }
}

const prepare = variants[job.kind]
if (!prepare) throw new Error(`unknown variant kind ${job.kind}`)
const run = await prepare()

// What the harness should see about how the upload used the process, beyond wall time:
// a blocked event loop (hashing on the main thread) and buffers that outlive their part.
const loop = monitorEventLoopDelay({ resolution: 10 })
let peakArrayBuffers = 0
const sampler = setInterval(() => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers)
}, 100)
const rssBefore = process.memoryUsage().rss
const cpuBefore = process.cpuUsage()
loop.enable()

trace?.start()
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
    // resourceUsage().maxRSS is the kernel's high-water mark (KiB): nothing between samples escapes it.
    maxRss: process.resourceUsage().maxRSS * 1024,
    rssBefore,
    peakArrayBuffers,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayMaxMs: loop.max / 1e6,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    ...(trace ? { trace: trace.summary(ms) } : {}),
  }) + '\n',
)
// Keep-alive sockets (axios, the SDK) would otherwise hold the process open.
process.exit(0)
