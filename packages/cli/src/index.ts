/**
 * @module @valet/cli — `valet dev` (Azurite + key endpoint + example page on 127.0.0.1),
 * `valet upload` (many files, parallel parts, resumable, JSON output), `valet download` (objects
 * by key, every byte verified, resumable) and `valet doctor`
 * (a deployment checked as a browser upload uses it), also callable in-process through
 * {@link main}. The rest is what scripts and examples start around it: a local Azurite and the
 * dev server.
 */
export { main } from './main.js'
export { EXIT, type CliIo } from './cli-io.js'
export { startDevServer, type DevServer } from './dev-server.js'
export { startAzurite, type Azurite, type AzuriteOptions } from './azurite.js'
