/**
 * `size-limit` (esbuild, min+gzip) on the built browser entry of @valet/client: what a page loads
 * for `import { createUploader } from '@valet/client'`, axios included, lazy chunks (the hashing
 * worker, the spark-md5 fallback, the upload engine) left out. The limits live in .size-limit.mjs;
 * tus-js-client and Uppy are measured beside it for docs/benchmarks.md.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Check {
  name: string
  size: number
  sizeLimit?: number
  passed?: boolean
}

it('the browser bundle of createUploader stays within its size limit (30 kB min+gzip, axios included)', async () => {
  const { stdout } = await promisify(execFile)(`${ROOT}node_modules/.bin/size-limit`, ['--json'], { cwd: ROOT }).catch((e: { stdout: string }) => e)
  const checks = JSON.parse(stdout) as Check[]
  await mkdir(`${ROOT}test-output`, { recursive: true })
  await writeFile(`${ROOT}test-output/bundle-sizes.json`, JSON.stringify(checks, null, 2))
  const client = checks.find((c) => c.name.includes('createUploader'))
  expect(client?.sizeLimit).toBe(30_000)
  expect(client!.size, JSON.stringify(checks)).toBeLessThanOrEqual(30_000)
  expect(checks.filter((c) => c.passed === false)).toEqual([])
  // The lazy chunks are real weight kept out of the first load (the worker script alone is ~20 kB).
  expect(checks.find((c) => c.name.includes('lazy chunks included'))!.size).toBeGreaterThan(client!.size + 15_000)
}, 120_000)
