/**
 * The upload engine as one module: what `bindUploader` needs once the first upload starts. Node
 * links it in; browsers load it as a chunk of its own (see `browser/browser-platform.ts`).
 */
export { KeyEndpoint } from '../keys/key-endpoint.js'
export { runUpload } from './run-upload.js'
export { uploadMany } from './upload-many.js'
