/**
 * The reload scenario both storages run: pick a file, let a few parts land on a throttled link,
 * reload the page, pick the same file again, and let it finish from what storage holds.
 */
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { expect } from 'vitest'
import { openExample } from './harness.js'
import { PartPuts, throttleUploads, waitForStatus, writeFileSpec, type FileSpec, type RowState } from './page-tools.js'

export async function uploadAcrossReload(
  context: BrowserContext,
  url: string,
  path: string,
  bytesPerSecond: number,
): Promise<{ page: Page; row: RowState; repeated: number[] }> {
  const page = await openExample(context, url)
  const puts = new PartPuts(page)
  await throttleUploads(page, bytesPerSecond)
  await page.setInputFiles('#file', path)
  await page.waitForFunction(() => Number(document.getElementById('upload-1')?.dataset.partsDone) >= 3, undefined, { timeout: 60_000 })
  await page.reload()
  await page.waitForSelector('body[data-ready="true"]')
  await page.setInputFiles('#file', path)
  const row = await waitForStatus(page, 'upload-1', ['done'])
  return { page, row, repeated: puts.repeated() }
}

/**
 * {@link uploadAcrossReload} for `spec`, written to `dir`, with the checks both storages make: at
 * least 3 parts were stored before the reload and fewer than `concurrency + 1` went twice.
 * Returns the finished row and the file's sha256, for the storage check.
 */
export async function reloadMidUpload(
  context: BrowserContext,
  url: string,
  dir: string,
  spec: FileSpec,
  options: { concurrency: number; bytesPerSecond: number; label: string },
): Promise<{ page: Page; row: RowState; sha256: string }> {
  const path = join(dir, spec.name)
  const sha256 = await writeFileSpec(path, spec)
  const { page, row, repeated } = await uploadAcrossReload(context, url, path, options.bytesPerSecond)
  console.log(`[browser] ${options.label}: ${row.resumedParts} of 8 parts were stored already; parts sent twice: [${repeated.join(', ')}]`)
  expect(row.resumedParts).toBeGreaterThanOrEqual(3)
  expect(repeated.length).toBeLessThan(options.concurrency + 1)
  return { page, row, sha256 }
}
