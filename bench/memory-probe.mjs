#!/usr/bin/env node
// Where a Node upload's memory goes (issue 15): one Swift and key server, then valet uploads in
// child processes that sample process.memoryUsage() every 10 ms and report the peak of each field,
// plus RSS after loading the client and a bare-node baseline. Not part of `pnpm bench`.
//   node bench/memory-probe.mjs [--size MiB] [--runs N] [--part MiB] [--concurrency N]  (after pnpm run build)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { startSwift } from '../scripts/swift/start.mjs'
import { generateFile } from './support/data.mjs'
import { startKeyServer } from './support/key-server.mjs'

const MiB = 1024 * 1024
const HERE = path.dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { size: { type: 'string' }, runs: { type: 'string' }, part: { type: 'string' }, concurrency: { type: 'string' } } })
const size = Number(values.size ?? 512) * MiB
const runs = Number(values.runs ?? 2)

const CHILD = `
const MiB = 1024 * 1024
const job = JSON.parse(process.env.PROBE_JOB)
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
const sample = () => { const m = process.memoryUsage(); for (const k in peak) peak[k] = Math.max(peak[k], m[k]) }
const bare = process.memoryUsage().rss
const { createUploader } = await import(job.client)
const loaded = process.memoryUsage()
const uploader = createUploader({ endpoint: job.endpoint, checksum: 'md5', headers: { authorization: 'Bearer bench' }, resume: false, ...job.options })
const timer = setInterval(sample, 10)
const t = performance.now()
await uploader.upload(job.file, { type: 'application/octet-stream' }).done
clearInterval(timer)
sample()
const f = (n) => (n / MiB).toFixed(1)
console.log(JSON.stringify({ s: ((performance.now() - t) / 1000).toFixed(2), bare: f(bare), loaded: f(loaded.rss), loadedHeap: f(loaded.heapUsed), maxRSS: f(process.resourceUsage().maxRSS * 1024), peak: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, f(v)])) }))
process.exit(0)
`

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'valet-memprobe-'))
const file = path.join(work, 'data.bin')
await generateFile(file, size)
const swift = await startSwift({ dir: work })
const keys = await startKeyServer(swift)
try {
  const options = {}
  if (values.part) options.partSize = Number(values.part) * MiB
  if (values.concurrency) options.concurrency = Number(values.concurrency)
  const job = { client: path.join(HERE, '../packages/client/dist/index.node.js'), endpoint: keys.endpoint, file, options }
  for (let i = 0; i < runs; i++) {
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, PROBE_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'inherit'] })
      let text = ''
      child.stdout.on('data', (c) => (text += c))
      child.on('exit', (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`child exited ${code}`))))
    })
    console.log(out)
    keys.take()
  }
} finally {
  await keys.close()
  await swift.stop()
  fs.rmSync(work, { recursive: true, force: true })
}
