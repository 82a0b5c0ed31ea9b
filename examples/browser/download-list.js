// The "Downloads" list: every upload this page finished, with a Download button that reads the
// object back straight from storage through `createDownloader` (read keys from the key endpoint,
// which needs `canRead`; `valet dev` lets the page read its own uploads). Where the browser has
// `showSaveFilePicker`, bytes go into the file the user picks; elsewhere into a Blob, saved with
// an object-URL link. `data-download` on each row: idle → downloading → done | error.
import { formatBytes, formatRate } from './format.js'

export class DownloadList {
  /**
   * @param {HTMLElement} list where rows go
   * @param {object} valet the client bundle's exports
   * @param {{ endpoint: string, concurrency?: number, saveAs?: string | null }} config
   *   `saveAs: 'blob'` always saves through a Blob (no file picker: scripts and tests)
   */
  constructor(list, valet, config) {
    this.list = list
    this.valet = valet
    this.config = config
    this.downloader = undefined
  }

  /** Adds an upload's result (`{ key, size }`) to the list. */
  add(result) {
    const name = result.key.split('/').pop() || 'download'
    const row = document.createElement('li')
    row.className = 'download'
    row.dataset.download = 'idle'
    row.dataset.key = result.key
    const label = document.createElement('span')
    label.className = 'download-name'
    label.textContent = `${name} (${formatBytes(result.size)})`
    label.title = result.key
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = 'Download'
    const note = document.createElement('span')
    note.className = 'download-note'
    row.append(label, button, note)
    button.addEventListener('click', () => this.download(result.key, name, row, button, note))
    this.list.append(row)
    this.list.hidden = false
  }

  download(key, name, row, button, note) {
    if (typeof this.valet.createDownloader !== 'function') {
      note.textContent = 'This client bundle has no createDownloader: rebuild it with "pnpm run build".'
      row.dataset.download = 'error'
      return
    }
    this.downloader ??= this.valet.createDownloader({
      endpoint: this.config.endpoint,
      ...(this.config.concurrency ? { concurrency: this.config.concurrency } : {}),
    })
    // The picker must open straight from the click (a user gesture), before anything is awaited.
    const picker = this.config.saveAs !== 'blob' && typeof window.showSaveFilePicker === 'function'
    const destination = picker ? window.showSaveFilePicker({ suggestedName: name }) : Promise.resolve(undefined)
    button.disabled = true
    row.dataset.download = 'downloading'
    note.textContent = 'Starting…'
    const started = performance.now()
    destination
      .then((handle) => {
        const onProgress = (p) => {
          const percent = p.bytesTotal > 0 ? Math.floor((100 * p.bytesReceived) / p.bytesTotal) : 0
          note.textContent = p.phase === 'verifying' ? 'Verifying…' : `${percent}% ${formatRate(p.rate)}`
        }
        return this.downloader.download(key, handle, { onProgress }).done
      })
      .then((got) => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        row.dataset.download = 'done'
        row.dataset.verified = got.verified
        note.textContent = `Saved in ${seconds} s, verified (${got.verified})`
        if (got.blob) {
          // No file handle: the object is in memory; a link saves it (and stays for another click).
          const link = document.createElement('a')
          link.href = URL.createObjectURL(got.blob)
          link.download = name
          link.textContent = `Save ${name}`
          link.className = 'download-link'
          row.append(link)
          link.click()
        }
      })
      .catch((error) => {
        row.dataset.download = 'error'
        // The user closed the file picker: not a failure.
        if (error?.name === 'AbortError') {
          row.dataset.download = 'idle'
          note.textContent = ''
        } else {
          note.textContent = this.valet.isValetError(error) ? `${error.message} (${error.code})` : `Download failed: ${error?.message ?? error}`
        }
      })
      .finally(() => {
        button.disabled = false
      })
  }
}
