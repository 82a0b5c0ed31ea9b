// The Valet browser example: pick or drop files, watch them go straight to storage.
//
// Served by `valet dev` at /, with the key endpoint at /api/valet and the client bundle
// (`@valet/client/valet-client.js`, every dependency inlined) at /valet-client.js.
// Query parameters: ?endpoint=/api/valet&concurrency=4&partSize=8MiB&parallel=1&save=blob
import { DownloadList } from './download-list.js'
import { formatBytes, parseCount, parseSize } from './format.js'
import { UploadRow } from './upload-row.js'

const params = new URLSearchParams(location.search)
const config = {
  endpoint: params.get('endpoint') || '/api/valet',
  concurrency: parseCount(params.get('concurrency')),
  partSize: parseSize(params.get('partSize')),
  /** Files uploading at once: each already runs `concurrency` part PUTs. */
  parallel: parseCount(params.get('parallel')) ?? 1,
  /** `blob`: downloads always go through a Blob and a link, never the file picker. */
  saveAs: params.get('save'),
}

const $ = (selector) => document.querySelector(selector)
const list = $('#uploads')
const drop = $('#drop')
const input = $('#file')

function showSettings() {
  const parts = [`endpoint ${config.endpoint}`]
  if (config.concurrency) parts.push(`${config.concurrency} parts at once`)
  if (config.partSize) parts.push(`${formatBytes(config.partSize)} parts`)
  $('#settings').textContent = parts.join(' · ')
}

function fatal(message) {
  const box = $('#fatal')
  box.textContent = message
  box.hidden = false
  input.disabled = true
  drop.classList.add('disabled')
}

let valet
try {
  valet = await import('./valet-client.js')
} catch (error) {
  fatal(`The client bundle (valet-client.js) did not load: build it with "pnpm run build". ${error.message}`)
  throw error
}

const downloads = new DownloadList($('#downloads'), valet, config)

const uploader = valet.createUploader({
  endpoint: config.endpoint,
  ...(config.concurrency ? { concurrency: config.concurrency } : {}),
  ...(config.partSize ? { partSize: config.partSize } : {}),
})

/** What a failure means to someone looking at the page. */
function describeError(error) {
  if (!valet.isValetError(error)) return `Upload failed: ${error?.message ?? error}`
  // Errors from the key endpoint carry `context.operation` (create, sign, list, complete,
  // delete) or `context.reached === false`: never blame storage for those.
  const keyEndpoint = error.context?.operation !== undefined || error.context?.reached === false
  if (keyEndpoint) {
    const hint = error.code === 'retries_exhausted' ? ' — the key endpoint kept failing; Retry continues where it stopped.' : ''
    return `${error.message}${hint} (${error.code})`
  }
  const hints = {
    network_error: 'the network or the storage did not answer (check the storage CORS rules).',
    retries_exhausted: 'storage kept failing; Retry continues where it stopped.',
    storage_rejected: 'storage refused a part.',
    unauthorized: 'the key endpoint did not accept this page’s credentials.',
    forbidden: 'this file is not allowed here.',
    file_too_large: 'the file is larger than the server allows.',
    type_not_allowed: 'the server does not accept this file type.',
  }
  const hint = hints[error.code]
  return `${error.message}${hint ? ` — ${hint}` : ''} (${error.code})`
}

/** Every file the page was given, in order; `job.upload` exists while it runs. */
const jobs = []

function pump() {
  const running = jobs.filter((j) => j.status === 'uploading').length
  let free = config.parallel - running
  for (const job of jobs) {
    if (free <= 0) break
    if (job.status === 'queued') {
      start(job)
      free--
    }
  }
}

function setStatus(job, status, note) {
  job.status = status
  job.row.setStatus(status, note)
}

function start(job) {
  setStatus(job, 'uploading')
  const started = performance.now()
  let firstUploading = true
  const upload = uploader.upload(job.file, {
    onProgress: (p) => {
      job.row.setProgress(p)
      if (p.phase === 'uploading' && firstUploading) {
        firstUploading = false
        // Parts storage already holds count before the first byte moves: a resumed upload.
        if (p.partsDone > 0) job.row.resumed(p.partsDone, p.partsTotal)
      }
    },
  })
  job.upload = upload
  upload.done.then(
    (result) => {
      job.status = 'done'
      job.row.done(result, performance.now() - started)
      downloads.add(result)
    },
    (error) => {
      if (job.status === 'canceled') return
      job.status = 'error'
      job.row.fail(describeError(error))
    },
  ).finally(() => {
    job.upload = undefined
    pump()
  })
}

function act(job, action) {
  if (action === 'pause' && job.upload) {
    job.upload.pause()
    setStatus(job, 'paused')
    pump()
  } else if (action === 'resume' && job.upload) {
    job.upload.resume()
    setStatus(job, 'uploading')
  } else if (action === 'cancel') {
    // abort() also deletes the upload in storage and forgets its resume state.
    job.upload?.abort()
    setStatus(job, 'canceled')
    pump()
  } else if (action === 'retry') {
    // The resume state survived the failure: stored parts are kept.
    setStatus(job, 'queued')
    pump()
  }
}

/** Adds files to the list and starts them as slots free up. Returns their rows' ids. */
function addFiles(files) {
  const ids = []
  for (const file of files) {
    const job = { id: `upload-${jobs.length + 1}`, file, status: 'queued', upload: undefined }
    job.row = new UploadRow(file, (action) => act(job, action))
    job.row.el.id = job.id
    jobs.push(job)
    list.append(job.row.el)
    ids.push(job.id)
  }
  $('#empty').hidden = jobs.length > 0
  pump()
  return ids
}

input.addEventListener('change', () => {
  addFiles([...input.files])
  // The same file may be picked again (after a reload, to resume it).
  input.value = ''
})

for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (event) => {
    event.preventDefault()
    drop.classList.add('over')
  })
}
for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'))
drop.addEventListener('drop', (event) => {
  event.preventDefault()
  const files = [...(event.dataTransfer?.files ?? [])]
  if (files.length > 0) addFiles(files)
})
// A file dropped next to the zone must not navigate away from the uploads in progress.
window.addEventListener('dragover', (event) => event.preventDefault())
window.addEventListener('drop', (event) => event.preventDefault())
window.addEventListener('beforeunload', (event) => {
  if (jobs.some((j) => j.status === 'uploading')) event.preventDefault()
})

showSettings()
document.body.dataset.ready = 'true'
// For scripts and tests: add files made in the page (`new File([...], name, { lastModified })`).
window.valetExample = { addFiles, config, uploader, downloads }
