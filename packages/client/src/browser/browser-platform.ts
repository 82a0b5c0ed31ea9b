/** The browser's ports for the engine; the worker-backed ones come from `workers.ts`. */
import axios from 'axios'
import { createAxiosTransport } from '../http/axios-transport.js'
import type { Platform } from '../create-uploader.js'
import type { Hasher, Transport } from '../ports.js'
import { lazyResumeStore } from '../resume/lazy-resume-store.js'
import { materialize, type BrowserBody } from './part-ref.js'
import { prepareBrowserSource, type BrowserSource } from './prepare-browser-source.js'

/**
 * XHR on this thread: the key endpoint's JSON calls, and parts when no worker can run. XHR, not
 * fetch, because it reports upload progress per request. A storage 4xx without CORS headers
 * (Swift's, say) reaches the engine as a network error, which re-signs the part and retries:
 * never a status it would have to read.
 */
export function mainThreadTransport(): Transport<BrowserBody> {
  // No Content-Length: browsers set it themselves and refuse it from scripts.
  return createAxiosTransport({ axios, adapter: 'xhr', toBody: materialize })
}

export function browserPlatform(ports: { hasher: Hasher<BrowserBody>; transport: Transport<BrowserBody> }): Platform<BrowserSource, BrowserBody> {
  return {
    transport: ports.transport,
    hasher: ports.hasher,
    defaults: {
      // A path such as '/api/valet' resolves against the page.
      absoluteEndpoint: false,
      // IndexedDB and localStorage code loads with the first upload too.
      resumeStore: () => lazyResumeStore(() => import('./browser-resume-store.js').then((m) => m.createBrowserResumeStore())),
    },
    prepareSource: prepareBrowserSource,
    // A chunk of its own: pages load it when the first upload starts, with the worker script.
    engine: () => import('../engine/engine.js'),
  }
}
