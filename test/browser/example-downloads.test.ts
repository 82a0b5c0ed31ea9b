/**
 * The example page's Downloads list, in Chromium against the built `valet dev` (its Azurite, its
 * key endpoint with `canRead` on the dev prefix, its storage CORS for ranged GETs): a file
 * uploaded in the page is downloaded back through the browser `createDownloader`, once into a
 * Blob saved by a link (`?save=blob`) and once into the file a (stubbed) `showSaveFilePicker`
 * hands over, an origin-private file; both read back equal to what was uploaded.
 *
 * Needs the browser `createDownloader` in the client bundle: a bundle without it skips, saying so.
 * Runs `packages/cli/dist/bin.js` and the bundle: `pnpm test` builds first.
 */
import { existsSync, mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, killValetDev, startValetDev, type Run } from '../cli/run-cli.js'
import { launchChromium, type Chromium } from './harness.js'

let work: string
let dev: Run
let pageUrl: string
let chromium: Chromium

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm run build\` first`)
  work = mkdtempSync(join(tmpdir(), 'valet-example-downloads-'))
  const started = await startValetDev(['dev', '--port', '0', '--dir', join(work, '.valet')], work)
  dev = started.dev
  pageUrl = started.endpoint.replace(/api\/valet$/, '')
  chromium = await launchChromium()
})

afterAll(async () => {
  await chromium?.close()
  killValetDev(dev)
  if (work) await rm(work, { recursive: true, force: true })
})

/** SHA-256 hex of bytes the page computes (the same code for the upload and the download). */
const SHA = `async (buffer) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', buffer)), (b) => b.toString(16).padStart(2, '0')).join('')`

describe('examples/browser: Downloads (valet dev, Chromium)', () => {
  it.for(['blob', 'picker'] as const)('uploads a file, then its Download button saves it back whole (%s)', async (mode, context) => {
    const page = await chromium.context.newPage()
    try {
      await page.goto(`${pageUrl}${mode === 'blob' ? '?save=blob' : ''}`)
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
      // A string, so the test's transform leaves the page's import() alone.
      const hasDownloader = await page.evaluate(`import('/valet-client.js').then((m) => typeof m.createDownloader === 'function')`)
      if (!hasDownloader) context.skip('the client bundle has no browser createDownloader yet')
      if (mode === 'picker') {
        // What a person picking a file hands over: a file handle (here an origin-private one).
        await page.evaluate(() => {
          ;(window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async ({ suggestedName }: { suggestedName: string }) =>
            (await navigator.storage.getDirectory()).getFileHandle(`picked-${suggestedName}`, { create: true })
        })
      }
      const uploaded = await page.evaluate(async (sha) => {
        const bytes = new Uint8Array(9 * 1024 * 1024 + 17)
        for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff
        ;(window as unknown as { valetExample: { addFiles(files: File[]): void } }).valetExample.addFiles([new File([bytes], 'round.bin')])
        return (0, eval)(sha)(bytes.buffer) as Promise<string>
      }, SHA)
      await page.waitForSelector('#uploads li[data-status="done"]', { timeout: 60_000 })
      const row = page.locator('#downloads li').last()
      expect(await row.getAttribute('data-key')).toMatch(/^dev\/.+\/round\.bin$/)
      await row.locator('button').click()
      await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector<HTMLElement>('#downloads li:last-child')?.dataset.download ?? ''), undefined, { timeout: 60_000 })
      const note = await row.locator('.download-note').textContent()
      expect(await row.getAttribute('data-download'), note ?? '').toBe('done')
      expect(await row.getAttribute('data-verified')).toBe('parts')
      const saved =
        mode === 'blob'
          ? await page.evaluate(async ([href, sha]) => (0, eval)(sha)(await (await fetch(href)).arrayBuffer()) as Promise<string>, [(await row.locator('a').getAttribute('href'))!, SHA] as const)
          : await page.evaluate(async (sha) => {
              const file = await (await (await navigator.storage.getDirectory()).getFileHandle('picked-round.bin')).getFile()
              return (0, eval)(sha)(await file.arrayBuffer()) as Promise<string>
            }, SHA)
      expect(saved).toBe(uploaded)
    } finally {
      await page.close()
    }
  })
})
