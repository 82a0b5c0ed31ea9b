// The download section (issue 16): the same object downloaded to a file by Valet's Node
// downloader and by one raw GET streamed to a file with node:http (the ceiling), on the same
// Swift; and on Azurite by Valet, by a raw GET with a SAS and by @azure/storage-blob's
// `downloadToFile`. The object is put there by Valet's uploader first (so it has a part manifest:
// Valet fetches it part by part and checks every part's MD5). Each download runs in a child of
// its own (bench/download-child.mjs) so its peak RSS is that client's; the variants alternate
// within each round and ratios are per round, as for uploads. Every downloaded file is checked
// (size, sha256) and deleted.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateFile } from './data.mjs'
import { startKeyServer } from './key-server.mjs'
import { fmt, median, mib, roundRatios, table } from './report.mjs'
import { runChild } from './run-child.mjs'
import { deleteObject, presignGet } from './storage.mjs'

const MiB = 1024 * 1024
const RSS_FIXED = 80 * MiB
const HERE = path.dirname(fileURLToPath(import.meta.url))
const UPLOAD_CHILD = path.join(HERE, '..', 'child.mjs')
const DOWNLOAD_CHILD = path.join(HERE, '..', 'download-child.mjs')

/** `base`: the variant its ratio is taken against (same storage, same round). */
export const DOWNLOAD_VARIANTS = {
  'raw-get': { kind: 'raw-get', storage: 'swift', label: 'raw GET (Swift)' },
  // The raw GET plus an fsync of the file before the clock stops: the like-for-like ceiling of
  // valet with `fsync: true` (its staging flushed to disk before the rename).
  'raw-get-fsync': { kind: 'raw-get', storage: 'swift', label: 'raw GET + fsync (Swift)', fsync: true, base: 'raw-get' },
  // A reference, not a product (bench/download-child.mjs): 4 ranged GETs of the parts in flight on
  // bare node:http, no checksum, no fsync: what this store's ranged path allows at all.
  'raw-ranges': { kind: 'raw-ranges', storage: 'swift', label: 'lean 4 ranged GETs (Swift, reference)', concurrency: 4, base: 'raw-get' },
  // The same, each of the 4 GETs reading a quarter of the object: what 16 requests cost over 4.
  'raw-quarters': { kind: 'raw-ranges', storage: 'swift', label: 'lean 4 GETs of a quarter each (Swift, reference)', concurrency: 4, pieces: 4, base: 'raw-get' },
  'raw-eighths': { kind: 'raw-ranges', storage: 'swift', label: 'lean 4 at a time, 8 GETs (Swift, reference)', concurrency: 4, pieces: 8, base: 'raw-get' },
  valet: { kind: 'valet', storage: 'swift', label: 'valet defaults (Swift)', base: 'raw-get' },
  'valet-1': { kind: 'valet', storage: 'swift', label: 'valet ×1 (Swift)', concurrency: 1, base: 'raw-get' },
  'valet-2': { kind: 'valet', storage: 'swift', label: 'valet ×2 (Swift)', concurrency: 2, base: 'raw-get' },
  'valet-8': { kind: 'valet', storage: 'swift', label: 'valet ×8 (Swift)', concurrency: 8, base: 'raw-get' },
  'valet-fsync': { kind: 'valet', storage: 'swift', label: 'valet fsync: true (Swift)', fsync: true, base: 'raw-get-fsync' },
  'raw-get-azurite': { kind: 'raw-get', storage: 'azurite', label: 'raw GET, SAS (Azurite)' },
  'valet-azurite': { kind: 'valet', storage: 'azurite', label: 'valet defaults (Azurite)', base: 'raw-get-azurite' },
  'azure-sdk': { kind: 'azure-sdk', storage: 'azurite', label: 'Azure SDK downloadToFile (Azurite)', base: 'raw-get-azurite' },
}
export const DEFAULT_DOWNLOAD_VARIANTS = ['raw-get', 'raw-get-fsync', 'raw-ranges', 'valet', 'valet-8', 'valet-fsync', 'raw-get-azurite', 'valet-azurite', 'azure-sdk']
// 2 GiB: the memory check and the ratio on Swift only (Azurite keeps its blobs in files of its
// own: another 2 GiB on disk and minutes of upload).
export const DEFAULT_BIG_DOWNLOAD_VARIANTS = ['raw-get', 'raw-get-fsync', 'valet']

const label = (bytes) => (bytes % (1024 * MiB) === 0 ? `${bytes / 1024 / MiB} GiB` : `${(bytes / MiB).toFixed(0)} MiB`)


async function sha256File(file) {
  const hash = createHash('sha256')
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * MiB })) hash.update(chunk)
  return hash.digest('hex')
}

/** A read SAS for one blob (what a raw GET on Azure needs), valid for an hour. */
async function sasUrl(azurite, key) {
  const { BlobSASPermissions, SASProtocol, StorageSharedKeyCredential, generateBlobSASQueryParameters } = await import('@azure/storage-blob')
  const sas = generateBlobSASQueryParameters(
    { containerName: azurite.container, blobName: key, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000), protocol: SASProtocol.HttpsAndHttp },
    new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
  ).toString()
  return `${azurite.endpoint}/${azurite.container}/${key.split('/').map(encodeURIComponent).join('/')}?${sas}`
}

/** The `x-ms-version` the azure provider pins for Azurite (the SDK's own is newer than Azurite 3.35 takes). */
const AZURE_SERVICE_VERSION = '2025-05-05'

async function deleteBlob(azurite, key) {
  const { BlobServiceClient, StorageSharedKeyCredential, newPipeline } = await import('@azure/storage-blob')
  const pipeline = newPipeline(new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey))
  pipeline.factories.push({ create: (next) => ({ sendRequest: (request) => (request.headers.set('x-ms-version', AZURE_SERVICE_VERSION), next.sendRequest(request)) }) })
  await new BlobServiceClient(azurite.endpoint, pipeline).getContainerClient(azurite.container).getBlobClient(key).deleteIfExists()
}

/**
 * Runs the download section; returns `{ records, uploads }`. `swift` and `swiftKeys` are the
 * bench's; Azurite (and its key endpoint) is started here when a variant needs it.
 */
export async function downloadBench({ swift, swiftKeys, work, opts, big, children, profileDir }) {
  const sets = [{ set: label(opts.size), size: opts.size, rounds: opts.downloadRounds, variants: opts.downloadVariants }]
  if (big && opts.bigDownloadVariants.length) sets.push({ set: label(opts.bigSize), size: opts.bigSize, rounds: opts.bigRounds, variants: opts.bigDownloadVariants })
  const records = []
  const uploads = []
  let azurite
  let azureKeys
  const needsAzurite = sets.some((s) => s.variants.some((v) => DOWNLOAD_VARIANTS[v].storage === 'azurite'))
  try {
    if (needsAzurite) {
      const t = Date.now()
      const { startAzurite } = await import('../../scripts/azurite/start.mjs')
      const { azure } = await import('../../packages/server/dist/azure.js')
      azurite = await startAzurite({ dir: path.join(work, 'azurite'), cors: false })
      azureKeys = await startKeyServer(swift, {
        storage: azure({ accountName: azurite.accountName, accountKey: azurite.accountKey, container: azurite.container, endpoint: azurite.endpoint }),
      })
      console.log(`azurite at ${azurite.endpoint} (started in ${((Date.now() - t) / 1000).toFixed(1)} s), its key endpoint at ${azureKeys.endpoint}`)
    }
    const keysFor = (storage) => (storage === 'swift' ? swiftKeys : azureKeys)

    for (const s of sets) {
      const file = path.join(work, `download-${s.set.replace(/\s/g, '')}.bin`)
      const sha256 = await generateFile(file, s.size)
      // The object, uploaded by Valet with its defaults: a multipart upload with a part manifest.
      const objects = {}
      for (const storage of new Set(s.variants.map((v) => DOWNLOAD_VARIANTS[v].storage))) {
        const keys = keysFor(storage)
        const t = Date.now()
        const up = await runChild(
          UPLOAD_CHILD,
          { kind: 'valet', variant: `upload-for-download-${storage}`, set: s.set, round: 0, file, size: s.size, endpoint: keys.endpoint, stateDir: path.join(work, 'resume-state') },
          { children },
        )
        keys.take()
        objects[storage] = up
        uploads.push({ set: s.set, storage, key: up.key, partSize: up.partSize, ms: Date.now() - t })
        console.log(`${s.set} uploaded to ${storage} by valet for the downloads: ${up.partSize / MiB} MiB parts, ${((Date.now() - t) / 1000).toFixed(1)} s`)
      }
      fs.rmSync(file, { force: true })

      for (let round = 0; round < s.rounds; round++) {
        const order = s.variants.map((_, i) => s.variants[(i + round) % s.variants.length])
        for (const variant of order) {
          const spec = DOWNLOAD_VARIANTS[variant]
          const object = objects[spec.storage]
          const record = { set: s.set, size: s.size, round, variant, storage: spec.storage, partSize: object.partSize }
          records.push(record)
          const dest = path.join(work, `dl-${variant}.bin`)
          const job = { kind: spec.kind, variant, set: s.set, round, key: object.key, size: s.size, dest, concurrency: spec.concurrency, fsync: spec.fsync }
          if (spec.kind === 'raw-ranges') {
            job.url = await presignGet(swift, object.key)
            job.rangeSize = spec.pieces ? Math.ceil(s.size / spec.pieces) : object.partSize
          }
          if (spec.kind === 'raw-get') job.url = spec.storage === 'swift' ? await presignGet(swift, object.key) : await sasUrl(azurite, object.key)
          if (spec.kind === 'valet') {
            job.endpoint = keysFor(spec.storage).endpoint
            job.stateDir = path.join(work, 'download-state')
            keysFor(spec.storage).take()
          }
          if (spec.kind === 'azure-sdk') job.azurite = { endpoint: azurite.endpoint, accountName: azurite.accountName, accountKey: azurite.accountKey, container: azurite.container }
          job.serviceVersion = AZURE_SERVICE_VERSION
          try {
            const result = await runChild(DOWNLOAD_CHILD, job, { children, profileDir, profileName: `download-${job.variant}-${job.set.replace(/\s/g, '')}-r${job.round + 1}.cpuprofile` })
            Object.assign(record, result, { mibps: s.size / MiB / (result.ms / 1000) })
            if (spec.kind === 'valet') record.keyCalls = keysFor(spec.storage).take()
            // A fast download only counts if the file is all there and byte-identical.
            record.sizeOk = fs.statSync(dest).size === s.size
            record.shaOk = (await sha256File(dest)) === sha256
            if (!record.sizeOk || !record.shaOk) {
              record.error = `downloaded file does not match (size ${record.sizeOk ? 'ok' : 'WRONG'}, sha256 ${record.shaOk ? 'ok' : 'WRONG'})`
              console.log(`  ! ${variant}: ${record.error}`)
            }
            console.log(
              `${s.set} download round ${round + 1}/${s.rounds} ${spec.label.padEnd(34)} ${record.mibps.toFixed(0).padStart(5)} MiB/s  ` +
                `${(result.ms / 1000).toFixed(2)} s  peak RSS ${(result.maxRss / MiB).toFixed(0)} MiB` +
                (record.verified ? `  verified ${record.verified}` : '') +
                (record.keyCalls ? `  key calls: ${record.keyCalls.opens} open, ${record.keyCalls.rangeCalls} sign (${record.keyCalls.rangesSigned} ranges)` : ''),
            )
          } catch (e) {
            record.error = e instanceof Error ? e.message : String(e)
            console.log(`${s.set} download round ${round + 1} ${spec.label}: ERROR ${record.error}`)
            if (spec.kind === 'valet') keysFor(spec.storage).take()
          } finally {
            fs.rmSync(dest, { force: true })
            fs.rmSync(`${dest}.valet-partial`, { force: true })
          }
        }
      }
      for (const [storage, object] of Object.entries(objects)) {
        await (storage === 'swift' ? deleteObject(swift, object.key) : deleteBlob(azurite, object.key)).catch((e) => console.log(`  (cleanup of ${object.key} failed: ${e.message})`))
      }
    }
  } finally {
    await azureKeys?.close().catch(() => {})
    await azurite?.stop().catch(() => {})
  }
  return { records, uploads }
}


export function summarizeDownloads(records) {
  const rows = []
  const seen = new Set()
  for (const { set, variant } of records) {
    const id = `${set}\0${variant}`
    if (seen.has(id)) continue
    seen.add(id)
    const spec = DOWNLOAD_VARIANTS[variant]
    const mine = records.filter((r) => r.set === set && r.variant === variant)
    const ok = mine.filter((r) => !r.error)
    const ratios = spec.base ? roundRatios(records, set, variant, spec.base) : []
    const calls = ok.map((r) => r.keyCalls).filter(Boolean)
    rows.push({
      set,
      variant,
      label: spec.label,
      base: spec.base,
      runs: ok.length,
      failed: mine.length - ok.length,
      mibps: median(ok.map((r) => r.mibps)),
      ratio: spec.base ? median(ratios) : 1,
      ratios,
      peakRss: ok.length ? Math.max(...ok.map((r) => r.maxRss)) : NaN,
      cpuSeconds: median(ok.map((r) => r.cpuMs / 1000)),
      loopMaxMs: ok.length ? Math.max(...ok.map((r) => r.loopDelayMaxMs)) : NaN,
      rangeSize: spec.kind === 'valet' ? ok[0]?.partSize : undefined,
      concurrency: spec.kind === 'valet' ? (spec.concurrency ?? 4) : undefined,
      keyCalls: calls.length ? `${median(calls.map((c) => c.opens))} open, ${median(calls.map((c) => c.rangeCalls))} sign, ${median(calls.map((c) => c.rangesSigned))} ranges` : '—',
      verified: ok.length === 0 ? 'NO' : ok.every((r) => r.sizeOk && r.shaOk) ? `sha256${ok[0].verified ? ` + ${ok[0].verified}` : ''}` : 'NO',
    })
  }
  return rows
}

export function renderDownloads({ records, uploads }, machine) {
  const rows = summarizeDownloads(records)
  const out = []
  out.push(
    table(
      ['file', 'variant', 'runs', 'median MiB/s', '× base (rounds)', 'peak RSS', 'client CPU s', 'max event-loop delay', 'key calls', 'verified'],
      rows.map((r) => [
        r.set,
        r.label,
        r.runs + (r.failed ? ` (${r.failed} failed)` : ''),
        fmt(r.mibps),
        r.base ? `${fmt(r.ratio, 2)} (${r.ratios.map((x) => fmt(x, 2)).join(', ')})` : '1.00 (base)',
        mib(r.peakRss),
        fmt(r.cpuSeconds, 1),
        `${fmt(r.loopMaxMs)} ms`,
        r.keyCalls,
        r.verified,
      ]),
    ),
  )
  out.push('', table(
    ['file', 'round', 'variant', 's', 'MiB/s', 'peak RSS', 'check'],
    records.map((r) => [r.set, r.round + 1, DOWNLOAD_VARIANTS[r.variant].label, fmt(r.ms / 1000, 2) + (r.syncMs === undefined ? '' : ` (fsync ${fmt(r.syncMs / 1000, 2)})`), fmt(r.mibps), mib(r.maxRss), r.error ? `ERROR ${r.error.slice(0, 80)}` : 'ok']),
  ))
  out.push('', `Objects uploaded by valet (defaults) for the downloads: ${uploads.map((u) => `${u.set} on ${u.storage}, ${u.partSize / MiB} MiB parts`).join('; ')}`)
  if (machine) out.push(machine)
  return out.join('\n')
}

/** The issue-16 targets: valet ≥ 0.9× a raw GET (verification on); peak RSS ≤ 80 MiB + concurrency × range size. */
export function downloadTargets({ records }) {
  const verdicts = []
  for (const r of summarizeDownloads(records)) {
    const spec = DOWNLOAD_VARIANTS[r.variant]
    if (r.runs === 0) continue
    if (spec.kind === 'raw-ranges') {
      if (r.ratios.length) verdicts.push({ name: `${r.label} vs ${DOWNLOAD_VARIANTS[r.base].label} (${r.set})`, value: `${fmt(r.ratio, 2)}×` })
      const valet = summarizeDownloads(records).find((v) => v.set === r.set && v.variant === 'valet')
      if (valet) verdicts.push({ name: `valet defaults (Swift) vs ${r.label} (${r.set}, client overhead: MD5, staging, keys)`, value: `${fmt(median(roundRatios(records, r.set, 'valet', r.variant)), 2)}×` })
      continue
    }
    if (spec.kind === 'azure-sdk') {
      if (r.ratios.length) verdicts.push({ name: `${r.label} vs ${DOWNLOAD_VARIANTS[r.base].label} (${r.set}, reference)`, value: `${fmt(r.ratio, 2)}×` })
      const valet = summarizeDownloads(records).find((v) => v.set === r.set && v.variant === 'valet-azurite')
      if (valet) verdicts.push({ name: `valet (Azurite) vs ${r.label} (${r.set})`, value: `${fmt(median(roundRatios(records, r.set, 'valet-azurite', r.variant)), 2)}×` })
      continue
    }
    if (spec.kind !== 'valet') continue
    verdicts.push({ name: `${r.label} ≥ 0.90× ${DOWNLOAD_VARIANTS[r.base].label} (${r.set}, verification on)`, value: `${fmt(r.ratio, 2)}×`, pass: r.ratio >= 0.9 })
    const bound = RSS_FIXED + r.concurrency * r.rangeSize
    verdicts.push({ name: `${r.label} peak RSS ≤ 80 MiB + ${r.concurrency} × ${mib(r.rangeSize)} = ${mib(bound)} (${r.set})`, value: mib(r.peakRss), pass: r.peakRss <= bound })
  }
  return verdicts
}
