/**
 * The cancel scenario both storages run: start a file on a throttled link, cancel it once a part
 * is stored, and check storage holds neither the object nor an open upload for it.
 */
import type { BrowserContext } from 'playwright-core'
import { expect } from 'vitest'
import type { StorageCase } from '../support/storages.js'
import { openExample, type PageServer } from './harness.js'
import { MiB, addMadeFile, makeFileInPage, throttleUploads, waitForStatus, type FileSpec } from './page-tools.js'

export async function cancelMidUpload(context: BrowserContext, server: PageServer, storage: StorageCase, url: string, spec: FileSpec): Promise<void> {
  const page = await openExample(context, url)
  await throttleUploads(page, 6 * MiB)
  await makeFileInPage(page, spec)
  const id = await addMadeFile(page, spec.name)
  await page.waitForFunction((id) => Number(document.getElementById(id)?.dataset.partsDone) >= 1, id, { timeout: 60_000 })
  await page.click(`#${id} button[data-action="cancel"]`)
  await waitForStatus(page, id, ['canceled'])
  const created = server.calls.filter((c) => c.endpoint === '/api/valet' && c.status === 201 && c.path.endsWith('/uploads')).at(-1)
  const key: string = created?.response.key
  expect(key).toContain(spec.name)
  await expect.poll(() => storage.openUploads(key), { timeout: 15_000 }).toBe(0)
  expect(await storage.read(key)).toBeUndefined()
  await page.close()
}
