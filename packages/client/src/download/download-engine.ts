/**
 * The download engine: what `createDownloader` loads (Node links it in; browsers load it as a
 * chunk on the first `download()`).
 */
export { KeyEndpoint } from '../keys/key-endpoint.js'
export { runDownload } from './run-download.js'
