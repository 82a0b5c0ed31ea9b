// One row of the upload list: renders an upload's state; knows nothing about the uploader.
// `data-status` is the contract with the tests: queued → uploading ⇄ paused → done | error | canceled.
import { formatBytes, formatEta, formatRate } from './format.js'

const LABELS = {
  queued: 'Waiting',
  uploading: 'Uploading',
  paused: 'Paused',
  done: 'Done',
  error: 'Failed',
  canceled: 'Canceled',
}
const PHASES = { preparing: 'Preparing…', completing: 'Finishing…' }

// Built from a template string once; values only ever go in through textContent.
const template = document.createElement('template')
template.innerHTML = `
  <li class="upload">
    <div class="upload-head">
      <span class="upload-name"></span>
      <span class="upload-size"></span>
      <span class="upload-badge"></span>
    </div>
    <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div class="bar-fill"></div></div>
    <div class="upload-meta">
      <span class="upload-percent">0%</span>
      <span class="upload-parts"></span>
      <span class="upload-rate"></span>
      <span class="upload-eta"></span>
      <span class="upload-note"></span>
    </div>
    <div class="upload-actions">
      <button type="button" data-action="pause">Pause</button>
      <button type="button" data-action="resume">Resume</button>
      <button type="button" data-action="retry">Retry</button>
      <button type="button" data-action="cancel" class="quiet">Cancel</button>
    </div>
    <p class="upload-key">Stored as <code></code></p>
    <p class="upload-error" role="alert"></p>
  </li>`

/** Which buttons each status offers. */
const ACTIONS = {
  queued: ['cancel'],
  uploading: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  done: [],
  error: ['retry'],
  canceled: [],
}

export class UploadRow {
  /** @param {File} file @param {(action: string) => void} onAction */
  constructor(file, onAction) {
    this.el = template.content.firstElementChild.cloneNode(true)
    this.$ = (selector) => this.el.querySelector(selector)
    // Text is written only when it changes: every write is style and layout work for the page.
    this.text = (selector, value) => {
      const node = this.$(selector)
      if (node.textContent !== value) node.textContent = value
    }
    this.$('.upload-name').textContent = file.name
    this.$('.upload-name').title = file.name
    this.$('.upload-size').textContent = formatBytes(file.size)
    this.el.dataset.size = String(file.size)
    this.el.addEventListener('click', (event) => {
      const action = event.target.closest('button')?.dataset.action
      if (action) onAction(action)
    })
    this.setStatus('queued')
    this.setProgress({ bytesSent: 0, bytesTotal: file.size, rate: 0, eta: null, phase: 'preparing', partsDone: 0, partsTotal: 0 })
  }

  setStatus(status, note = '') {
    this.el.dataset.status = status
    this.$('.upload-badge').textContent = LABELS[status]
    this.$('.upload-note').textContent = note
    for (const button of this.el.querySelectorAll('button')) button.hidden = !ACTIONS[status].includes(button.dataset.action)
    if (status !== 'uploading') {
      this.$('.upload-rate').textContent = ''
      this.$('.upload-eta').textContent = ''
    }
    if (status !== 'error') this.$('.upload-error').textContent = ''
  }

  setProgress(p) {
    const percent = p.bytesTotal > 0 ? (100 * p.bytesSent) / p.bytesTotal : 0
    const shown = p.phase === 'complete' ? 100 : Math.min(99, Math.floor(percent))
    this.$('.bar-fill').style.transform = `scaleX(${(percent / 100).toFixed(4)})`
    this.$('.bar').setAttribute('aria-valuenow', String(shown))
    this.text('.upload-percent', `${shown}%`)
    this.el.dataset.bytesSent = String(p.bytesSent)
    this.el.dataset.partsDone = String(p.partsDone)
    this.el.dataset.partsTotal = String(p.partsTotal)
    if (p.partsTotal > 0) this.text('.upload-parts', `${p.partsDone} / ${p.partsTotal} parts`)
    if (this.el.dataset.status !== 'uploading') return
    this.text('.upload-rate', p.phase === 'uploading' ? formatRate(p.rate) : '')
    this.text('.upload-eta', p.phase === 'uploading' ? formatEta(p.eta) : '')
    if (PHASES[p.phase]) this.$('.upload-note').textContent = PHASES[p.phase]
    else if (p.phase === 'uploading' && this.$('.upload-note').textContent in INVERSE_PHASES) this.$('.upload-note').textContent = ''
  }

  /** The upload continued one that storage already had `stored` parts of. */
  resumed(stored, total) {
    this.el.dataset.resumedParts = String(stored)
    this.$('.upload-note').textContent = `Resumed: ${stored} of ${total} parts were already stored`
  }

  done(result, elapsedMs) {
    const parts = Number(this.el.dataset.partsTotal)
    this.setProgress({ bytesSent: result.size, bytesTotal: result.size, rate: 0, eta: 0, phase: 'complete', partsDone: parts, partsTotal: parts })
    const resumed = this.el.dataset.resumedParts ? ` (resumed, ${this.el.dataset.resumedParts} parts were already stored)` : ''
    this.setStatus('done', `in ${(elapsedMs / 1000).toFixed(1)} s, ${formatRate((result.size / elapsedMs) * 1000)}${resumed}`)
    this.el.dataset.key = result.key
    this.el.dataset.elapsedMs = String(Math.round(elapsedMs))
    this.$('.upload-key code').textContent = result.key
  }

  fail(message) {
    this.setStatus('error')
    this.$('.upload-error').textContent = message
  }
}

const INVERSE_PHASES = Object.fromEntries(Object.values(PHASES).map((v) => [v, true]))
