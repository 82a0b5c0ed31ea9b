#!/usr/bin/env node
// `pnpm bench`: Valet's Node client against a raw presigned PUT (the ceiling) and
// @aws-sdk/lib-storage, on real OpenStack Swift (s3api) on 127.0.0.1; then the browser client in
// Chromium (MD5 engines, and an upload vs a raw fetch PUT of the same Blob); then downloads (valet's
// downloader vs a raw GET, on Swift and Azurite, bench/support/download.mjs). See docs/benchmarks.md.
//
// Each upload runs in a child process of its own (bench/child.mjs) so its peak RSS is the
// client's; variants alternate within every round so slow drift on a shared box hits all alike.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startSwift } from '../scripts/swift/start.mjs'
import { generateFile } from './support/data.mjs'
import { browserBench, renderBrowser } from './support/browser.mjs'
import { bulkBench } from './support/bulk.mjs'
import { bulkTargets, renderBulk } from './support/bulk-report.mjs'
import { downloadBench, downloadTargets, renderDownloads } from './support/download.mjs'
import { hashingBench } from './support/hashing.mjs'
import { options, USAGE, VARIANTS } from './support/options.mjs'
import { startKeyServer } from './support/key-server.mjs'
import { pinCpus, runChild } from './support/run-child.mjs'
import { renderRounds, renderSummary, renderTargets, renderTraces, summarize, targets } from './support/report.mjs'
import { deleteObject, headObject, presignPut, sha256Object } from './support/storage.mjs'

const MiB = 1024 * 1024
const HERE = path.dirname(fileURLToPath(import.meta.url))
const CHILD = path.join(HERE, 'child.mjs')

const label = (bytes) => (bytes % (1024 * MiB) === 0 ? `${bytes / 1024 / MiB} GiB` : `${(bytes / MiB).toFixed(0)} MiB`)

function freeBytes(dir) {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}

// Children we started and that still run: an interrupted bench must not leave an upload going.
const children = new Set()

async function main() {
  let opts
  try {
    opts = options()
  } catch (e) {
    console.error(`${e.message}\n\n${USAGE}`)
    process.exit(2)
  }
  const t0 = Date.now()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'valet-bench-'))
  let swift
  let keys
  const cleanup = async () => {
    for (const child of children) child.kill('SIGKILL')
    await keys?.close().catch(() => {})
    await swift?.stop().catch(() => {})
    fs.rmSync(work, { recursive: true, force: true })
  }
  const onSignal = () => cleanup().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const records = []
  let errors = 0
  try {
    console.log(`valet bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.release()}`)
    const hashing = hashingBench()
    const hashLine = `MD5 on ${hashing.partMiB} MiB buffers, one core: node:crypto ${hashing.nodeCrypto.toFixed(0)} MiB/s, spark-md5 ${hashing.sparkMd5.toFixed(0)} MiB/s`
    console.log(hashLine)

    // The big file, the stored object and its segments all land on this disk, plus headroom.
    const bigNeeds = 3 * opts.bigSize + 2 * 1024 * MiB
    const free = freeBytes(work)
    let big = opts.big
    const onlyOther = opts.browserOnly || opts.bulkOnly || opts.downloadOnly
    if (big === 'auto' && (!onlyOther || opts.downloadOnly)) {
      big = free >= bigNeeds
      if (!big) console.log(`skipping the ${label(opts.bigSize)} run: ${label(free)} free in ${work}, want ${label(bigNeeds)} (--big forces it)`)
    }

    const sets = onlyOther ? [] : [{ set: label(opts.size), size: opts.size, rounds: opts.rounds, variants: opts.variants }]
    if (big && !onlyOther && opts.bigVariants.length) sets.push({ set: label(opts.bigSize), size: opts.bigSize, rounds: opts.bigRounds, variants: opts.bigVariants })
    for (const s of sets) {
      s.file = path.join(work, `data-${s.set.replace(/\s/g, '')}.bin`)
      const t = Date.now()
      s.sha256 = await generateFile(s.file, s.size)
      console.log(`generated ${s.set} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    }

    if (opts.pin) {
      pinCpus()
      console.log('pinned: storage and the key server on CPU 0, each client child on CPU 1')
    }
    const t = Date.now()
    swift = await startSwift({ dir: work })
    keys = await startKeyServer(swift)
    console.log(`swift s3api at ${swift.endpoint} (started in ${((Date.now() - t) / 1000).toFixed(1)} s), key endpoint at ${keys.endpoint}`)

    const profileDir = opts.profile ? path.join(os.tmpdir(), `valet-bench-profiles-${Date.now()}`) : undefined
    if (profileDir) {
      fs.mkdirSync(profileDir, { recursive: true })
      console.log(`profiling children into ${profileDir} (timings include profiler overhead)`)
    }

    const shaChecked = new Set()
    for (const s of sets) {
      for (let round = 0; round < s.rounds; round++) {
        // Rotating the order spreads any position effect (page cache, Swift warming up) over all variants.
        const order = s.variants.map((_, i) => s.variants[(i + round) % s.variants.length])
        for (const variant of order) {
          const spec = VARIANTS[variant]
          const record = { set: s.set, size: s.size, round, variant }
          records.push(record)
          const job = {
            kind: spec.kind,
            variant,
            set: s.set,
            round,
            file: s.file,
            size: s.size,
            partSize: spec.partSize,
            concurrency: spec.concurrency,
            md5: spec.md5,
            trace: opts.trace && spec.kind !== 'raw',
            key: `bench/${variant}/${randomBytes(8).toString('hex')}/${path.basename(s.file)}`,
            swift: { endpoint: swift.endpoint, region: swift.region, bucket: swift.bucket, accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
          }
          if (spec.kind === 'raw') job.url = await presignPut(swift, job.key)
          if (spec.kind === 'valet') {
            job.endpoint = keys.endpoint
            job.stateDir = path.join(work, 'resume-state')
            keys.take()
          }
          let key
          try {
            const result = await runChild(CHILD, job, { children, profileDir, profileName: `${job.variant}-${job.set.replace(/\s/g, '')}-r${job.round + 1}.cpuprofile` })
            key = result.key
            Object.assign(record, result, { mibps: s.size / MiB / (result.ms / 1000) })
            if (spec.kind === 'valet') {
              record.keyCalls = keys.take()
              record.partCount = Math.ceil(s.size / result.partSize)
            }
            // A fast upload only counts if the object is all there and byte-identical.
            const head = await headObject(swift, key)
            record.sizeOk = head.status === 200 && head.size === s.size
            // Reading an object back costs about as long as writing it: once per variant, plus
            // once per file size for valet, whose part ordering only the content can vouch for.
            const shaId = spec.kind === 'valet' ? `${s.set}\0${variant}` : variant
            if (!shaChecked.has(shaId)) {
              shaChecked.add(shaId)
              record.shaOk = (await sha256Object(swift, key)) === s.sha256
            }
            if (!record.sizeOk || record.shaOk === false) {
              errors++
              console.log(`  ! ${variant}: stored object does not match (HEAD ${head.status}, ${head.size} bytes, sha256 ${record.shaOk})`)
            }
            console.log(
              `${s.set} round ${round + 1}/${s.rounds} ${spec.label.padEnd(22)} ${record.mibps.toFixed(0).padStart(5)} MiB/s  ` +
                `${(result.ms / 1000).toFixed(2)} s  peak RSS ${(result.maxRss / MiB).toFixed(0)} MiB` +
                (record.keyCalls ? `  POST /parts ${record.keyCalls.signCalls} for ${record.partCount} parts` : ''),
            )
          } catch (e) {
            errors++
            record.error = e instanceof Error ? e.message : String(e)
            console.log(`${s.set} round ${round + 1} ${spec.label}: ERROR ${record.error}`)
            if (spec.kind === 'valet') keys.take()
          } finally {
            if (key) await deleteObject(swift, key).catch((e) => console.log(`  (cleanup of ${key} failed: ${e.message})`))
          }
        }
      }
      // The file is no longer needed: free the disk before the next (bigger) set.
      fs.rmSync(s.file, { force: true })
    }

    let downloads
    if (opts.download) {
      const load = os.loadavg().map((x) => x.toFixed(2)).join(', ')
      console.log(`\n## Downloads (issue 16): load average ${load}\n`)
      downloads = await downloadBench({ swift, swiftKeys: keys, work, opts, big: big === true, children, profileDir })
      downloads.loadBefore = load
      downloads.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(', ')
      errors += downloads.records.filter((r) => r.error).length
    }

    let bulk
    if (opts.bulk) {
      console.log(`\n## Bulk: many small files, ${opts.bulkConcurrency} in flight (issue 15)\n`)
      bulk = await bulkBench({ swift, work, opts, children })
      errors += bulk.filter((r) => r.error).length
    }

    let browser
    if (opts.browser) {
      console.log('\n## Browser (Chromium)\n')
      try {
        browser = await browserBench(swift, { sizeMiB: opts.browserSize, rounds: opts.browserRounds })
        errors += browser.uploads.filter((u) => u.error).length + browser.downloads.filter((d) => d.error).length + browser.hashing.filter((h) => h.error).length
      } catch (e) {
        errors++
        console.log(`browser bench: ERROR ${e instanceof Error ? e.message : String(e)}`)
      }
    }

    const rows = summarize(records, VARIANTS)
    const verdicts = sets.length ? targets(records, rows, { mainSet: sets[0].set }) : []
    const minutes = ((Date.now() - t0) / 60_000).toFixed(1)
    if (records.length) {
      console.log('\n## Per round\n')
      console.log(renderRounds(records, VARIANTS))
      if (opts.trace) console.log(`\n## Timelines of the multipart runs\n\n${renderTraces(records, VARIANTS)}`)
      console.log('\n## Summary (medians over rounds; × raw = median of per-round ratios; peak RSS = worst round)\n')
      console.log(renderSummary(rows))
    }
    console.log(`\n${hashLine}\n`)
    if (browser) console.log(`${renderBrowser(browser)}\n`)
    if (bulk?.length) console.log(`${renderBulk(bulk, opts)}\n`)
    if (downloads?.records.length) {
      console.log(`## Downloads (issue 16)\n\n${renderDownloads(downloads, `Load average before ${downloads.loadBefore}, after ${downloads.loadAfter} (1, 5, 15 min).`)}\n`)
    }
    console.log(renderTargets([...verdicts, ...(bulk ? bulkTargets(bulk) : []), ...(downloads ? downloadTargets(downloads) : [])]))
    const browserUploads = browser?.uploads.length ?? 0
    console.log(`\n${records.length + browserUploads} uploads${bulk ? ` and ${bulk.length} bulk runs` : ''}${downloads ? ` and ${downloads.records.length} downloads` : ''} in ${minutes} min; ${errors ? `${errors} ERROR(S)` : 'no errors'}.`)
    if (profileDir) console.log(`CPU profiles: ${profileDir}`)
    if (opts.json) {
      fs.writeFileSync(opts.json, JSON.stringify({ node: process.version, cpus: os.cpus().length, hashing, records, rows, targets: verdicts, browser, bulk, downloads }, null, 2))
    }
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  // Missed targets are findings, not failures; only something that broke fails the run.
  process.exitCode = errors ? 1 : 0
}

await main()
