/**
 * Uploads the files named on the command line with @valet/client: progress on one line, resume
 * state in .valet/state so a rerun after Ctrl+C or a crash continues where it stopped.
 * Usage: node upload.mjs FILE... (ENDPOINT and TOKEN from the environment)
 */
import { resolve } from 'node:path'
import { createUploader } from '@valet/client'

const endpoint = process.env.ENDPOINT ?? 'http://127.0.0.1:3000/api/valet'
const uploader = createUploader({
  endpoint,
  concurrency: 4,
  headers: () => (process.env.TOKEN ? { authorization: `Bearer ${process.env.TOKEN}` } : {}),
  stateDir: '.valet/state',
})

const controller = new AbortController()
process.once('SIGINT', () => controller.abort(new Error('interrupted')))

// `pnpm --filter … start -- FILE` runs this in its own folder and may pass the `--` through:
// skip it, and resolve FILE from where the command was typed (INIT_CWD).
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'))
const here = process.env.INIT_CWD ?? process.cwd()

for (const path of args.map((a) => resolve(here, a))) {
  const upload = uploader.upload(path, {
    signal: controller.signal,
    onProgress: (p) => process.stdout.write(`\r${path}: ${((100 * p.bytesSent) / p.bytesTotal).toFixed(1)}% ${(p.rate / 2 ** 20).toFixed(1)} MiB/s   `),
  })
  const result = await upload.done
  console.log(`\n${path} → ${result.key} (${result.size} bytes, etag ${result.etag})`)
}
