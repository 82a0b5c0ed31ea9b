// `pnpm bench`'s command line: the variants it knows, their defaults, and the parsed options.
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { CHROMIUM } from './browser.mjs'
import { BULK_VARIANTS, DEFAULT_BULK_SETS, parseBulkSets } from './bulk-variants.mjs'
import { DEFAULT_BIG_DOWNLOAD_VARIANTS, DEFAULT_DOWNLOAD_VARIANTS, DOWNLOAD_VARIANTS } from './download.mjs'

const MiB = 1024 * 1024

export const VARIANTS = {
  raw: { kind: 'raw', label: 'raw presigned PUT' },
  'valet-8': { kind: 'valet', label: 'valet 8 MiB ×4', partSize: 8 * MiB, concurrency: 4 },
  'valet-16': { kind: 'valet', label: 'valet 16 MiB ×4', partSize: 16 * MiB, concurrency: 4 },
  'valet-32': { kind: 'valet', label: 'valet 32 MiB ×4', partSize: 32 * MiB, concurrency: 4 },
  'valet-64': { kind: 'valet', label: 'valet 64 MiB ×4', partSize: 64 * MiB, concurrency: 4 },
  // createUploader with no partSize or concurrency: the part size is the key server's default
  // (sized to the file), the concurrency the client's default.
  'valet-default': { kind: 'valet', label: 'valet defaults' },
  'lib-storage': { kind: 'lib-storage', label: 'lib-storage 8 MiB ×4', partSize: 8 * MiB, concurrency: 4 },
  // new Upload() without partSize or queueSize: the SDK's own defaults (5 MiB ×4).
  'lib-storage-default': { kind: 'lib-storage', label: 'lib-storage defaults' },
  // References, not products: a lean multipart client on bare node:http (bench/child.mjs), to
  // tell what this store's multipart path costs apart from what a client adds on top.
  'mpu-md5': { kind: 'mpu', label: 'lean MPU+MD5 8 MiB ×4', partSize: 8 * MiB, concurrency: 4, md5: true, reference: true },
  mpu: { kind: 'mpu', label: 'lean MPU 8 MiB ×4', partSize: 8 * MiB, concurrency: 4, md5: false, reference: true },
}
const DEFAULT_VARIANTS = ['raw', 'valet-default', 'valet-8', 'lib-storage-default', 'lib-storage', 'mpu-md5']
// The big file is there for valet's memory check with the defaults and at 8 MiB ×4 (raw for the
// ratio). Each further variant adds 1–1.5 min at 2 GiB on this box.
const DEFAULT_BIG_VARIANTS = ['raw', 'valet-default', 'valet-8']

export const USAGE = `Usage: pnpm bench [-- options]   (or: node bench/run.mjs [options] after pnpm run build)

  --rounds N        rounds over every variant on the main file (default 3, env BENCH_ROUNDS)
  --size MiB        main file size (default 512)
  --big             also run the big file (default: only when the disk has room; env BENCH_BIG=1)
  --no-big          skip the big file (env BENCH_BIG=0)
  --big-size MiB    big file size (default 2048)
  --big-rounds N    rounds on the big file (default 1)
  --variants LIST   comma-separated, from: ${Object.keys(VARIANTS).join(', ')}
                    (default ${DEFAULT_VARIANTS.join(',')})
  --big-variants L  variants on the big file (default ${DEFAULT_BIG_VARIANTS.join(',')})
  --profile         run every child under --cpu-prof; prints where the .cpuprofile files are
                    (summarize with: node bench/profile-summary.mjs FILE.cpuprofile)
  --browser         run the browser part (default: when ${CHROMIUM} exists)
  --no-browser      skip it
  --browser-only    only the browser part (no Node uploads)
  --browser-size M  size of the page-made Blob, MiB (default 256)
  --browser-rounds  rounds of the browser part (default: --rounds)
  --no-trace        skip the timelines (PUTs in flight, MD5 time, key calls) of multipart runs;
                    they are recorded by default and cost next to nothing
  --bulk            also run the bulk scenario: many small files, valet vs a PutObject loop
  --bulk-only       only the bulk scenario (no big-file uploads, no browser part)
  --bulk-sets LIST  file sets as COUNTxKiB, comma-separated (default ${DEFAULT_BULK_SETS})
  --bulk-files N    one set of N files instead (with --bulk-size; default size 256)
  --bulk-size KiB   size of each file of that set
  --bulk-concurrency N  files in flight, the same for every variant (default 8)
  --bulk-rounds N   rounds over every bulk variant per set (default 3)
  --bulk-variants L comma-separated, from: ${Object.keys(BULK_VARIANTS).join(', ')} (default all)
  --no-download     skip the download section (issue 16): the file (--size, and the big one
                    when it runs) downloaded by valet vs a raw GET, on Swift and Azurite
  --download-only   only the download section (no uploads, no browser part, no bulk)
  --download-rounds N  rounds of the download section on the main file (default: --rounds)
  --download-variants L  comma-separated, from: ${Object.keys(DOWNLOAD_VARIANTS).join(', ')}
                    (default ${DEFAULT_DOWNLOAD_VARIANTS.join(',')})
  --big-download-variants L  on the big file (default ${DEFAULT_BIG_DOWNLOAD_VARIANTS.join(',')})
  --pin             storage (Swift, Azurite) and the key server on CPU 0, every Node client child
                    on CPU 1 (taskset): the client's CPU no longer comes out of storage's share,
                    as when storage is on another machine. Not with the browser part or bulk
  --json FILE       also write every record as JSON
  --help`

export function options() {
  const args = process.argv.slice(2)
  // `pnpm bench -- --x` hands the `--` through on some pnpm versions.
  if (args[0] === '--') args.shift()
  const { values } = parseArgs({
    args,
    options: {
      rounds: { type: 'string' },
      size: { type: 'string' },
      big: { type: 'boolean' },
      'no-big': { type: 'boolean' },
      'big-size': { type: 'string' },
      'big-rounds': { type: 'string' },
      variants: { type: 'string' },
      'big-variants': { type: 'string' },
      profile: { type: 'boolean' },
      'no-trace': { type: 'boolean' },
      browser: { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      'browser-only': { type: 'boolean' },
      'browser-size': { type: 'string' },
      'browser-rounds': { type: 'string' },
      bulk: { type: 'boolean' },
      'bulk-only': { type: 'boolean' },
      'bulk-sets': { type: 'string' },
      'bulk-files': { type: 'string' },
      'bulk-size': { type: 'string' },
      'bulk-concurrency': { type: 'string' },
      'bulk-rounds': { type: 'string' },
      'bulk-variants': { type: 'string' },
      'no-download': { type: 'boolean' },
      'download-only': { type: 'boolean' },
      'download-rounds': { type: 'string' },
      'download-variants': { type: 'string' },
      'big-download-variants': { type: 'string' },
      pin: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const int = (value, name, fallback) => {
    if (value === undefined || value === '') return fallback
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`)
    return n
  }
  const list = (value, fallback) => {
    const names = value ? value.split(',').map((v) => v.trim()).filter(Boolean) : fallback
    for (const v of names) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`)
    return names
  }
  const envBig = process.env.BENCH_BIG
  const rounds = int(values.rounds ?? process.env.BENCH_ROUNDS, 'rounds', 3)
  const bulkOnly = values['bulk-only'] ?? false
  const downloadOnly = values['download-only'] ?? false
  const downloadList = (value, fallback) => {
    const names = value ? value.split(',').map((v) => v.trim()).filter(Boolean) : fallback
    for (const v of names) if (!DOWNLOAD_VARIANTS[v]) throw new Error(`unknown download variant ${v}; known: ${Object.keys(DOWNLOAD_VARIANTS).join(', ')}`)
    return names
  }
  const bulkVariants = values['bulk-variants'] ? values['bulk-variants'].split(',').map((v) => v.trim()).filter(Boolean) : Object.keys(BULK_VARIANTS)
  for (const v of bulkVariants) if (!BULK_VARIANTS[v]) throw new Error(`unknown bulk variant ${v}; known: ${Object.keys(BULK_VARIANTS).join(', ')}`)
  const bulkSets =
    values['bulk-files'] !== undefined || values['bulk-size'] !== undefined
      ? parseBulkSets(`${int(values['bulk-files'], 'bulk-files', 1000)}x${int(values['bulk-size'], 'bulk-size', 256)}`)
      : parseBulkSets(values['bulk-sets'] ?? DEFAULT_BULK_SETS)
  const result = {
    rounds,
    bulk: !downloadOnly && (bulkOnly || (values.bulk ?? false)),
    download: downloadOnly || (!bulkOnly && !values['browser-only'] && !values['no-download']),
    downloadOnly,
    downloadRounds: int(values['download-rounds'], 'download-rounds', rounds),
    downloadVariants: downloadList(values['download-variants'], DEFAULT_DOWNLOAD_VARIANTS),
    bigDownloadVariants: downloadList(values['big-download-variants'], DEFAULT_BIG_DOWNLOAD_VARIANTS),
    bulkOnly,
    bulkSets,
    bulkConcurrency: int(values['bulk-concurrency'], 'bulk-concurrency', 8),
    bulkRounds: int(values['bulk-rounds'], 'bulk-rounds', 3),
    bulkVariants,
    browser: bulkOnly || downloadOnly ? false : values['no-browser'] ? false : values.browser || values['browser-only'] ? true : fs.existsSync(CHROMIUM),
    browserOnly: values['browser-only'] ?? false,
    browserSize: int(values['browser-size'], 'browser-size', 256),
    browserRounds: int(values['browser-rounds'], 'browser-rounds', rounds),
    size: int(values.size, 'size', 512) * MiB,
    big: values['no-big'] ? false : values.big ? true : envBig === '1' ? true : envBig === '0' ? false : 'auto',
    bigSize: int(values['big-size'], 'big-size', 2048) * MiB,
    bigRounds: int(values['big-rounds'], 'big-rounds', 1),
    variants: list(values.variants, DEFAULT_VARIANTS),
    bigVariants: list(values['big-variants'], DEFAULT_BIG_VARIANTS),
    profile: values.profile ?? false,
    trace: !values['no-trace'],
    pin: values.pin ?? false,
    json: values.json,
  }
  // Chromium and the bulk children would share CPU 0 with storage: not a like-for-like setup.
  if (result.pin && (result.browser || result.bulk)) throw new Error('--pin pins the Node children only: add --no-browser (and leave out --bulk), or use --download-only')
  return result
}
