// One bulk run (issue 15) in a process of its own: every file of a directory uploaded with
// `job.concurrency` files in flight, by the AWS SDK (the loop a Node script would write) or by
// valet's client API. Job in env BENCH_JOB (JSON); result as one JSON line on stdout.
// (The CLI variant needs no harness: bench/support/bulk.mjs runs `valet upload` itself.)
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

const started0 = performance.now()
const job = JSON.parse(process.env.BENCH_JOB ?? '{}')
const names = fs.readdirSync(job.dir).sort()

/** Runs `fn` over `items` with `n` in flight; a failure is recorded, never stops the others. */
async function pool(items, n, fn) {
  const failures = []
  let next = 0
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        await fn(items[i])
      } catch (e) {
        failures.push(`${items[i]}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  return failures
}

/** The PutObject loop a Node script would write; `verify` adds the HeadObject a checker needs. */
async function sdkLoop(verify) {
  const { S3Client, PutObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3')
  const { swift } = job
  // One client for the run: the SDK's default Node handler keeps connections alive.
  const client = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    // The SDK's default CRC32 checksums aren't what this store accepts (as in bench/child.mjs).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return async (objects) =>
    pool(names, job.concurrency, async (name) => {
      const body = await fs.promises.readFile(path.join(job.dir, name))
      const key = `${job.principal}/${name}`
      await client.send(new PutObjectCommand({ Bucket: swift.bucket, Key: key, Body: body }))
      if (verify) {
        const head = await client.send(new HeadObjectCommand({ Bucket: swift.bucket, Key: key }))
        if (head.ContentLength !== body.length) throw new Error(`${key}: ${head.ContentLength} bytes stored, not ${body.length}`)
      }
      objects.push([key, body.length])
    })
}

/** One uploader for the run, as a script would make it (defaults otherwise: MD5, resume on). */
async function valetUploader() {
  const { createUploader } = await import('../packages/client/dist/index.node.js')
  return createUploader({
    endpoint: job.endpoint,
    concurrency: job.concurrency,
    headers: { authorization: `Bearer ${job.principal}` },
    stateDir: job.stateDir,
  })
}

// Both load their modules before the clock starts, as bench/child.mjs does.
const variants = {
  async sdk() {
    return sdkLoop(false)
  },

  // The lean reference for a *verified* upload: what one PutObject plus the HeadObject that
  // checks it costs this store, the floor of anything that verifies each object on the server.
  async 'sdk-verified'() {
    return sdkLoop(true)
  },

  async 'valet-many'() {
    // The bulk API: creates and completes go in batches, small files in one PUT each.
    const uploader = await valetUploader()
    return async (objects) => {
      const items = names.map((name) => ({ source: path.join(job.dir, name), name }))
      const outcomes = await uploader.uploadMany(items, { concurrency: job.concurrency }).done
      const failures = []
      for (const o of outcomes) {
        if (o.ok) objects.push([o.result.key, o.result.size])
        else failures.push(`${o.name}: ${o.error?.message ?? o.error}`)
      }
      return failures
    }
  },

  async 'valet-api'() {
    // What `valet upload` did before uploadMany: one uploader, a pool of files, one upload() each.
    const uploader = await valetUploader()
    return async (objects) =>
      pool(names, job.concurrency, async (name) => {
        const result = await uploader.upload(path.join(job.dir, name), { name, concurrency: 1 }).done
        objects.push([result.key, result.size])
      })
  },
}

const prepare = variants[job.variant]
if (!prepare) throw new Error(`unknown bulk variant ${job.variant}`)
const run = await prepare()
const loadMs = performance.now() - started0
const cpuBefore = process.cpuUsage()
const objects = []
const started = performance.now()
const failures = await run(objects)
const ms = performance.now() - started
const cpu = process.cpuUsage(cpuBefore)
process.stdout.write(
  JSON.stringify({
    ms,
    loadMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRss: process.resourceUsage().maxRSS * 1024,
    objects,
    failed: failures.length,
    failures: failures.slice(0, 5),
  }) + '\n',
)
// Keep-alive sockets would otherwise hold the process open.
process.exit(0)
