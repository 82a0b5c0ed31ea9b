// The browser half of `pnpm bench`, in Debian's Chromium driven by playwright-core:
// - MD5 rates of the client's own hasher (createMd5Hasher) per engine: WebAssembly (hash-wasm,
//   the default) and spark-md5 (the portable path), in one worker, in the default pool, and on
//   the main thread (the fallback when a page forbids workers);
// - a valet upload of a page-made Blob vs a raw `fetch` PUT of the same Blob to a presigned URL,
//   same page, same Swift, alternating within each round.
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createValet } from '../../packages/server/dist/index.js'
import { toNodeListener } from '../../packages/server/dist/node.js'
import { swiftProvider } from './key-server.mjs'
import { median, roundRatios } from './report.mjs'
import { deleteObject, headObject, presignGet, presignPut, sha256Object } from './storage.mjs'

const MiB = 1024 * 1024
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUNDLE = path.join(ROOT, 'packages', 'client', 'dist', 'valet-client.js')
export const CHROMIUM = '/usr/bin/chromium'

const PAGE = `<!doctype html><meta charset="utf-8"><title>valet bench</title>
<script type="module">
  import * as valet from '/valet-client.js'
  window.valet = valet
  document.body.dataset.ready = 'true'
</script><body></body>`

function startPageServer(swift) {
  const valet = createValet({
    storage: swiftProvider(swift),
    secret: 'bench-browser-secret-0123456789abcdef0123456789',
    authorize: () => ({ id: 'bench-browser' }),
    canRead: () => true,
  })
  const api = toNodeListener(valet)
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname.startsWith('/api/valet')) return api(req, res)
    if (url.pathname === '/valet-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      return createReadStream(BUNDLE).pipe(res)
    }
    if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
    res.writeHead(404).end()
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () =>
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
      }),
    )
  })
}

/** In the page: MiB/s of hashing `parts` 8 MiB slices of the Blob with one hasher configuration. */
async function hashRate(page, config, parts) {
  return page.evaluate(
    async ({ config, parts, partSize }) => {
      const hasher = window.valet.createMd5Hasher(config.options)
      const signal = new AbortController().signal
      const blob = window.benchBlob
      const slice = (i) => blob.slice(i * partSize, (i + 1) * partSize)
      // Warm-up: starts the worker(s) and compiles the WebAssembly, which a real upload pays once.
      await hasher.md5(slice(0), signal)
      const t0 = performance.now()
      if (config.parallel) {
        let next = 0
        const lane = async () => {
          while (next < parts) await hasher.md5(slice(next++), signal)
        }
        await Promise.all(Array.from({ length: config.parallel }, lane))
      } else {
        for (let i = 0; i < parts; i++) await hasher.md5(slice(i), signal)
      }
      const ms = performance.now() - t0
      const engine = hasher.engine
      hasher.close()
      return { mibps: (parts * partSize) / 1048576 / (ms / 1000), engine, mode: hasher.mode }
    },
    { config, parts, partSize: 8 * MiB },
  )
}

/**
 * Runs the browser bench against a running Swift. Returns `{ hashing: [...], uploads: [...] }`
 * with one record per measurement; prints a line per measurement through `log`.
 */
export async function browserBench(swift, { sizeMiB = 256, rounds = 3, log = console.log } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (pnpm run system-deps installs it)`)
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm run build`)
  const { chromium } = await import('playwright-core')
  const server = await startPageServer(swift)
  const profile = await mkdtemp(path.join(os.tmpdir(), 'valet-bench-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const hashing = []
  const uploads = []
  const downloads = []
  try {
    const page = await context.newPage()
    await page.goto(`${server.origin}/`)
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
    const sha256 = await page.evaluate(async (size) => {
      // Pseudo-random bytes (xorshift): incompressible, and fast to make.
      const bytes = new Uint8Array(size)
      const words = new Uint32Array(bytes.buffer)
      let x = 0x9e3779b9
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        words[i] = x >>> 0
      }
      window.benchBlob = new Blob([bytes], { type: 'application/octet-stream' })
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
    }, sizeMiB * MiB)
    const { agent, cores } = await page.evaluate(() => ({ agent: navigator.userAgent, cores: navigator.hardwareConcurrency }))
    const version = /Chrome\/([\d.]+)/.exec(agent)?.[1] ?? '?'
    log(`browser: Chromium ${version}, navigator.hardwareConcurrency ${cores}, Blob ${sizeMiB} MiB`)

    const hashParts = Math.min(16, Math.floor((sizeMiB * MiB) / (8 * MiB)))
    const configs = [
      { label: 'hash-wasm, 1 worker', options: { workers: 1, engine: 'auto' } },
      { label: 'spark-md5, 1 worker', options: { workers: 1, engine: 'spark-md5' } },
      { label: 'hash-wasm, default pool', options: { engine: 'auto' }, parallel: 4 },
      { label: 'spark-md5, default pool', options: { engine: 'spark-md5' }, parallel: 4 },
      { label: 'spark-md5, main thread', options: { mainThread: true }, parts: 4 },
    ]
    for (let round = 0; round < rounds; round++) {
      for (const config of configs) {
        // One configuration failing (a read error) is reported and the others still run.
        try {
          const r = await hashRate(page, config, config.parts ?? hashParts)
          hashing.push({ round, label: config.label, ...r })
          log(`browser MD5 round ${round + 1}/${rounds} ${config.label.padEnd(24)} ${r.mibps.toFixed(0).padStart(5)} MiB/s  (${r.engine}, ${r.mode})`)
        } catch (e) {
          hashing.push({ round, label: config.label, error: e instanceof Error ? e.message.split('\n')[0] : String(e) })
          log(`browser MD5 round ${round + 1}/${rounds} ${config.label.padEnd(24)} ERROR ${hashing.at(-1).error}`)
        }
      }
    }

    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['raw', 'valet'] : ['valet', 'raw']
      for (const variant of order) {
        const record = { round, variant }
        uploads.push(record)
        let key
        try {
          if (variant === 'raw') {
            key = `bench/browser-raw/${Date.now()}-${round}.bin`
            const url = await presignPut(swift, key)
            Object.assign(
              record,
              await page.evaluate(async (url) => {
                const t0 = performance.now()
                const res = await fetch(url, { method: 'PUT', body: window.benchBlob })
                return { status: res.status, ms: performance.now() - t0 }
              }, url),
            )
            if (record.status !== 200) throw new Error(`raw PUT answered ${record.status}`)
          } else {
            Object.assign(
              record,
              await page.evaluate(async () => {
                const uploader = window.valet.createUploader({ endpoint: '/api/valet', concurrency: 4, partSize: 8 * 1048576, resume: false })
                const t0 = performance.now()
                const result = await uploader.upload(window.benchBlob, { name: 'bench.bin' }).done
                return { key: result.key, ms: performance.now() - t0 }
              }),
            )
            key = record.key
          }
          record.mibps = sizeMiB / (record.ms / 1000)
          const head = await headObject(swift, key)
          record.sizeOk = head.status === 200 && head.size === sizeMiB * MiB
          if (round === 0) record.shaOk = (await sha256Object(swift, key)) === sha256
          if (!record.sizeOk || record.shaOk === false) throw new Error(`stored object does not match (HEAD ${head.status}, ${head.size} bytes, sha256 ${record.shaOk})`)
          log(`browser upload round ${round + 1}/${rounds} ${(variant === 'raw' ? 'raw fetch PUT' : 'valet 8 MiB ×4').padEnd(16)} ${record.mibps.toFixed(0).padStart(5)} MiB/s`)
        } catch (e) {
          record.error = e instanceof Error ? e.message : String(e)
          log(`browser upload round ${round + 1} ${variant}: ERROR ${record.error}`)
        } finally {
          if (key) await deleteObject(swift, key).catch(() => {})
        }
      }
    }
    downloads.push(...(await downloadRounds(page, swift, { sizeMiB, rounds, sha256, log })))
  } finally {
    await context.close().catch(() => {})
    await rm(profile, { recursive: true, force: true })
    await server.close()
  }
  return { hashing, uploads, downloads }
}

/**
 * The page's Blob uploaded once by valet (8 MiB parts, so ranges of 8 MiB), then downloaded into
 * an origin-private file, alternating: a raw `fetch` of a presigned GET piped into the file's
 * `createWritable()` (the ceiling: no checks, no staging) and valet's downloader to the file
 * handle (resume off: the OPFS staging, the part MD5s, the copy into the file). sha256 of the
 * file checked in round 1.
 */
async function downloadRounds(page, swift, { sizeMiB, rounds, sha256, log }) {
  const records = []
  const key = await page.evaluate(async () => {
    const uploader = window.valet.createUploader({ endpoint: '/api/valet', concurrency: 4, partSize: 8 * 1048576, resume: false })
    return (await uploader.upload(window.benchBlob, { name: 'bench-download.bin' }).done).key
  })
  try {
    const url = await presignGet(swift, key)
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? ['raw', 'valet'] : ['valet', 'raw']) {
        const record = { round, variant }
        records.push(record)
        try {
          Object.assign(
            record,
            await page.evaluate(
              async ({ variant, url, key, check }) => {
                const dir = await navigator.storage.getDirectory()
                const name = `bench-${variant}.bin`
                const handle = await dir.getFileHandle(name, { create: true })
                const t0 = performance.now()
                if (variant === 'raw') {
                  const res = await fetch(url, { cache: 'no-store' })
                  if (res.status !== 200) throw new Error(`raw GET answered ${res.status}`)
                  await res.body.pipeTo(await handle.createWritable())
                } else {
                  await window.valet.createDownloader({ endpoint: '/api/valet', concurrency: 4, resume: false }).download(key, handle).done
                }
                const ms = performance.now() - t0
                const file = await handle.getFile()
                const digest = check ? Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer())), (b) => b.toString(16).padStart(2, '0')).join('') : undefined
                await dir.removeEntry(name)
                return { ms, size: file.size, digest }
              },
              { variant, url, key, check: round === 0 },
            ),
          )
          if (record.size !== sizeMiB * MiB || (record.digest !== undefined && record.digest !== sha256)) throw new Error(`the file does not match (${record.size} bytes, sha256 ${record.digest})`)
          record.mibps = sizeMiB / (record.ms / 1000)
          log(`browser download round ${round + 1}/${rounds} ${(variant === 'raw' ? 'raw fetch → OPFS' : 'valet ×4 → OPFS').padEnd(17)} ${record.mibps.toFixed(0).padStart(5)} MiB/s`)
        } catch (e) {
          record.error = e instanceof Error ? e.message : String(e)
          log(`browser download round ${round + 1} ${variant}: ERROR ${record.error}`)
        }
      }
    }
  } finally {
    await deleteObject(swift, key).catch(() => {})
  }
  return records
}

/** Markdown lines: median MiB/s per hasher configuration, and valet ÷ raw per round. */
export function renderBrowser({ hashing, uploads, downloads = [] }) {
  const lines = ['| browser MD5 (8 MiB parts) | MiB/s, median | rounds |', '|---|---|---|']
  for (const label of [...new Set(hashing.map((h) => h.label))]) {
    const runs = hashing.filter((h) => h.label === label)
    const rates = runs.filter((h) => h.error === undefined).map((h) => h.mibps)
    const rounds = runs.map((h) => (h.error === undefined ? h.mibps.toFixed(0) : 'error')).join(', ')
    lines.push(`| ${label} | ${rates.length > 0 ? median(rates).toFixed(0) : '—'} | ${rounds} |`)
  }
  lines.push('', versusRaw(uploads, 'Browser upload, same page, same Blob', 'valet 8 MiB ×4', 'raw fetch PUT'))
  if (downloads.length > 0) lines.push(versusRaw(downloads, 'Browser download into an origin-private file', 'valet ×4', 'raw fetch → createWritable'))
  return lines.join('\n')
}

/** valet against raw in one line: the median MiB/s of each, and valet ÷ raw round by round. */
function versusRaw(records, what, valetLabel, rawLabel) {
  const ratios = roundRatios(records, undefined, 'valet', 'raw')
  const rate = (variant) => median(records.filter((r) => r.variant === variant && !r.error).map((r) => r.mibps))
  return (
    `${what}: ${valetLabel} ${rate('valet').toFixed(0)} MiB/s vs ${rawLabel} ${rate('raw').toFixed(0)} MiB/s → ` +
    `${median(ratios).toFixed(2)}× raw (per round: ${ratios.map((r) => r.toFixed(2)).join(', ') || '—'})`
  )
}
