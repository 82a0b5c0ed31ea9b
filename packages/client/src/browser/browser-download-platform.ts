/**
 * The browser's ports for the download engine. Everything heavy loads with the first download:
 * the engine, staging (OPFS, memory), the MD5 and the IndexedDB store are chunks of their own,
 * so a page that only uploads doesn't pay for downloads.
 */
import type { DownloadPlatform } from '../download/create-downloader.js'
import type { DownloadState, DownloadStateStore } from '../download/download-ports.js'
import { mainThreadTransport } from './browser-platform.js'
import { fetchRangeFetcher } from './fetch-range-fetcher.js'
import { prepareBrowserDestination, type BrowserDestination } from './prepare-browser-destination.js'

/** State kept only while the page lives: where IndexedDB can't be opened. */
function memoryDownloadStore(): DownloadStateStore {
  const states = new Map<string, DownloadState>()
  return {
    get: async (fingerprint) => states.get(fingerprint),
    set: async (fingerprint, state) => void states.set(fingerprint, state),
    remove: async (fingerprint) => void states.delete(fingerprint),
  }
}

/**
 * The store behind `resume: true`: IndexedDB, loaded on first use; memory where IndexedDB fails
 * to open (private modes, blocked storage), since losing resumability beats losing the download.
 */
export function browserDownloadStore(): DownloadStateStore {
  let store: Promise<DownloadStateStore> | undefined
  const ready = (): Promise<DownloadStateStore> =>
    (store ??= import('./indexeddb-download-store.js')
      .then(async ({ createIndexedDbDownloadStore }) => {
        const indexedDb = createIndexedDbDownloadStore()
        await indexedDb.ready()
        return indexedDb as DownloadStateStore
      })
      .catch(() => memoryDownloadStore()))
  return {
    get: (fingerprint) => ready().then((s) => s.get(fingerprint)),
    set: (fingerprint, state) => ready().then((s) => s.set(fingerprint, state)),
    remove: (fingerprint) => ready().then((s) => s.remove(fingerprint)),
  }
}

/** Binds the browser's download ports; `index.browser.ts` calls it once, on first use. */
export function browserDownloadPlatform(): DownloadPlatform<BrowserDestination> {
  return {
    // Key-endpoint calls go as uploads' do when no worker runs: XHR on this thread.
    transport: mainThreadTransport(),
    fetcher: fetchRangeFetcher(),
    md5: () => import('./create-md5-stream.js').then((m) => m.createMd5Stream()),
    defaults: {
      // A path such as '/api/valet' resolves against the page.
      absoluteEndpoint: false,
      stateStore: () => browserDownloadStore(),
    },
    prepareDestination: prepareBrowserDestination,
    engine: () => import('../download/download-engine.js'),
  }
}
