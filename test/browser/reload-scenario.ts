/**
 * The reload scenario both storages run: pick a file, let a few parts land on a throttled link,
 * reload the page, pick the same file again, and let it finish from what storage holds.
 */
import type { BrowserContext, Page } from 'playwright-core'
import { openExample } from './harness.js'
import { PartPuts, throttleUploads, waitForStatus, type RowState } from './page-tools.js'

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
