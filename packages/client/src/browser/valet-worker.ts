/**
 * The Valet worker script: built by rollup into a string (`virtual:valet-worker`) and started
 * from a `blob:` URL, so users' bundlers need no worker configuration. One script, two jobs:
 * the hashing pool's workers get `hash` messages (MD5 in WebAssembly where allowed, else
 * spark-md5); one more instance gets `put` messages and
 * sends parts with XHR (upload progress included) so slicing and sending stay off the page.
 */
import { md5OfBlob, md5OfBytes } from './md5-of.js'
import { loadWasmMd5 } from './md5-wasm.js'
import { isRangeBody, parseHeaders, type Md5Engine, type WorkerBody, type WorkerReply, type WorkerRequest } from './worker-protocol.js'

/** What this script uses of its scope: the program's DOM lib types `self` as a window, wrongly here. */
interface WorkerScope {
  postMessage(reply: WorkerReply): void
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null
}
const scope: WorkerScope = self
/** The engine reports progress every 100 ms by default: finer messages would only cost the page. */
const PROGRESS_INTERVAL_MS = 100
const inFlight = new Map<number, XMLHttpRequest>()
const post = (reply: WorkerReply): void => scope.postMessage(reply)

function blobOf(body: WorkerBody): Blob | ArrayBuffer {
  return isRangeBody(body) ? body.file.slice(body.start, body.end) : body
}

async function hash(id: number, body: WorkerBody, engine: Md5Engine): Promise<void> {
  try {
    const data = blobOf(body)
    const wasm = engine === 'auto' ? await loadWasmMd5() : undefined
    if (wasm !== undefined) {
      post({ kind: 'md5', id, engine: 'hash-wasm', md5: data instanceof ArrayBuffer ? await wasm.bytes(data) : await wasm.blob(data) })
      return
    }
    post({ kind: 'md5', id, engine: 'spark-md5', md5: data instanceof ArrayBuffer ? md5OfBytes(data) : await md5OfBlob(data) })
  } catch (e) {
    const error = e as Error
    post({ kind: 'read-error', id, name: String(error?.name ?? 'Error'), message: String(error?.message ?? e) })
  }
}

function put(request: Extract<WorkerRequest, { kind: 'put' }>): void {
  const { id } = request
  const xhr = new XMLHttpRequest()
  inFlight.set(id, xhr)
  const done = (reply: WorkerReply): void => {
    if (!inFlight.delete(id)) return
    post(reply)
  }
  try {
    xhr.open(request.method, request.url)
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value)
    // Listening to upload progress makes the request preflighted; part PUTs are anyway.
    // Every message is a task on the page's main thread: at most one per request per interval.
    let last = 0
    if (request.progress) {
      xhr.upload.onprogress = (e) => {
        const now = performance.now()
        if (!inFlight.has(id) || (now - last < PROGRESS_INTERVAL_MS && e.loaded < e.total)) return
        last = now
        post({ kind: 'progress', id, loaded: e.loaded })
      }
    }
    xhr.onload = () => done({ kind: 'response', id, status: xhr.status, headers: parseHeaders(xhr.getAllResponseHeaders()), body: xhr.responseText })
    // A storage 4xx without CORS headers lands here too: the page can't tell, and needn't.
    xhr.onerror = () => done({ kind: 'network-error', id, message: 'Network Error' })
    xhr.ontimeout = () => done({ kind: 'network-error', id, message: 'timeout' })
    xhr.send(blobOf(request.body))
  } catch (e) {
    done({ kind: 'network-error', id, message: String((e as Error)?.message ?? e) })
  }
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data
  if (message.kind === 'hash') void hash(message.id, message.body, message.engine)
  else if (message.kind === 'put') put(message)
  else if (message.kind === 'abort') {
    const xhr = inFlight.get(message.id)
    inFlight.delete(message.id)
    xhr?.abort()
  }
}
