// The bulk scenario (issue 15): N small files to the same Swift by a plain AWS SDK PutObject
// loop, by `valet upload DIR` (the built CLI) and by valet's client API, at the same
// concurrency, alternating within each round. Each run is a process of its own and is timed from
// spawn to exit, as a user running a script or the CLI would time it; the SDK and API children
// also report their upload time without start-up. After each run the harness lists the run's
// prefix (every file there, at its size) and deletes it.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BULK_VARIANTS } from './bulk-variants.mjs'
import { generateFiles } from './data.mjs'
import { startKeyServer } from './key-server.mjs'
import { deleteKeys, listPrefix } from './storage.mjs'
import { swiftLog } from './swift-log.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const CHILD = path.join(ROOT, 'bench/bulk-child.mjs')
const CLI = path.join(ROOT, 'packages/cli/dist/bin.js')
const TIMEOUT_MS = 20 * 60_000

/** Peak RSS of a process we can't instrument (the CLI): VmHWM is a high-water mark, polled. */
function watchRss(pid) {
  let peak = 0
  const poll = () => {
    try {
      const kib = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (kib) peak = Math.max(peak, Number(kib[1]) * 1024)
    } catch {}
  }
  const timer = setInterval(poll, 100)
  return () => {
    clearInterval(timer)
    return peak || undefined
  }
}

function runProcess(args, env, children) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    const stopRss = watchRss(child.pid)
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - t0
      children.delete(child)
      clearTimeout(timer)
      resolve({ code, signal, out, err, wallMs, polledRss: stopRss() })
    })
  })
}

async function runVariant(variant, { dir, principal, concurrency, swift, keys, work, children }) {
  const stateDir = path.join(work, `bulk-state-${principal}`)
  try {
    if (BULK_VARIANTS[variant].how === 'cli') {
      const args = [CLI, 'upload', dir, '--endpoint', keys.endpoint, '--concurrency', String(concurrency), '--json', '--header', `authorization: Bearer ${principal}`, '--state-dir', stateDir]
      const p = await runProcess(args, {}, children)
      const objects = []
      const failures = []
      for (const line of p.out.split('\n').filter(Boolean)) {
        const r = JSON.parse(line)
        if (r.error) failures.push(`${r.name}: ${r.error.code} ${r.error.message}`)
        else objects.push([r.key, r.size])
      }
      if (p.code !== 0 && failures.length === 0) throw new Error(`valet upload exited ${p.code ?? p.signal}: ${p.err.trim().slice(-1000)}`)
      return { wallMs: p.wallMs, maxRss: p.polledRss, objects, failed: failures.length, failures: failures.slice(0, 5) }
    }
    const job = { variant, dir, principal, concurrency, endpoint: keys.endpoint, stateDir, swift: { endpoint: swift.endpoint, region: swift.region, bucket: swift.bucket, accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey } }
    const p = await runProcess([CHILD], { BENCH_JOB: JSON.stringify(job) }, children)
    const line = p.out.trim().split('\n').pop()
    if (p.code !== 0 || !line) throw new Error(`${variant} child exited ${p.code ?? p.signal}: ${p.err.trim().slice(-1000)}`)
    return { ...JSON.parse(line), wallMs: p.wallMs }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true })
  }
}

/** Runs every set × round × variant; resolves with one record per run. */
export async function bulkBench({ swift, work, opts, children, log = console.log }) {
  const keys = await startKeyServer(swift, { principalFromToken: true })
  const swiftRequests = swiftLog(swift)
  const records = []
  try {
    for (const s of opts.bulkSets) {
      const dir = path.join(work, `bulk-${s.files}x${s.kib}`)
      const t = Date.now()
      await generateFiles(dir, s.files, s.size)
      log(`generated ${s.set} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
      for (let round = 0; round < opts.bulkRounds; round++) {
        const order = opts.bulkVariants.map((_, i) => opts.bulkVariants[(i + round) % opts.bulkVariants.length])
        for (const variant of order) {
          // The principal is the object prefix (principalPrefix keeps [A-Za-z0-9_-] as is).
          const principal = `bulk-${s.files}x${s.kib}-r${round + 1}-${variant}`
          const record = { set: s.set, files: s.files, size: s.size, concurrency: opts.bulkConcurrency, round, variant }
          records.push(record)
          keys.take()
          const from = swiftRequests.mark()
          try {
            const result = await runVariant(variant, { dir, principal, concurrency: opts.bulkConcurrency, swift, keys, work, children })
            await swiftRequests.settle(from)
            record.storage = swiftRequests.count(from)
            record.keyCalls = keys.take()
            const { objects, ...rest } = result
            Object.assign(record, rest, { filesPerSec: s.files / (result.wallMs / 1000) })
            if (result.ms) record.uploadFilesPerSec = s.files / (result.ms / 1000)
            // Fast only counts if every file is there, at its size, where the uploader said.
            const listed = await listPrefix(swift, `${principal}/`)
            const wrongSize = [...listed.values()].filter((size) => size !== s.size).length
            const unlisted = objects.filter(([key]) => !listed.has(key)).length
            record.stored = listed.size
            record.verified = listed.size === s.files && wrongSize === 0 && unlisted === 0 && result.failed === 0
            if (!record.verified) {
              record.error = `stored ${listed.size}/${s.files}, ${wrongSize} of wrong size, ${unlisted} reported but not listed, ${result.failed} failed ${result.failures?.join('; ') ?? ''}`
            }
            await deleteKeys(swift, listed.keys()).catch((e) => log(`  (cleanup of ${principal}/ failed: ${e.message})`))
            const perFile = (n) => (n / s.files).toFixed(2)
            const client = Object.values(record.storage.client).reduce((a, n) => a + n, 0)
            const server = Object.values(record.storage.server).reduce((a, n) => a + n, 0)
            const k = record.keyCalls
            log(
              `${s.set} round ${round + 1}/${opts.bulkRounds} ${BULK_VARIANTS[variant].label.padEnd(22)} ${record.filesPerSec.toFixed(1).padStart(6)} files/s  ${(result.wallMs / 1000).toFixed(2)} s` +
                `  storage requests/file ${perFile(client)} client + ${perFile(server)} server` +
                (variant === 'sdk' ? '' : `  key calls/file ${perFile(k.creates + k.signCalls + k.completes + k.other)}`) +
                (record.error ? `  ! ${record.error}` : ''),
            )
          } catch (e) {
            record.error = e instanceof Error ? e.message : String(e)
            keys.take()
            log(`${s.set} round ${round + 1} ${BULK_VARIANTS[variant].label}: ERROR ${record.error}`)
            const left = await listPrefix(swift, `${principal}/`).catch(() => new Map())
            await deleteKeys(swift, left.keys()).catch(() => {})
          }
        }
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }
  } finally {
    await keys.close()
  }
  return records
}
