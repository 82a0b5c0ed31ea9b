/**
 * @module @valet/cli — `valet dev` (Azurite + key endpoint + example page on 127.0.0.1),
 * `valet upload` (many files, parallel parts, resumable, JSON output) and `valet doctor`
 * (a deployment checked as a browser upload uses it), also callable in-process.
 */
export { main, MAIN_HELP } from './main.js'
export { devCommand } from './dev-command.js'
export { uploadCommand, type UploadedLine, type FailedLine } from './upload-command.js'
export { parseDevArgs, DEV_HELP, type DevArgs, type DevStorage } from './dev-args.js'
export { parseUploadArgs, UPLOAD_HELP, type UploadArgs } from './upload-args.js'
export { doctorCommand } from './doctor-command.js'
export { parseDoctorArgs, DOCTOR_HELP, type DoctorArgs } from './doctor-args.js'
export { runDoctor } from './doctor-run.js'
export { renderReport, type DoctorReport, type Check, type CheckStatus, type Figures } from './doctor-report.js'
export { startDevServer, API_PATH, CLIENT_BUNDLE_PATH, DEV_CONTAINER, type DevServer } from './dev-server.js'
export { startAzurite, AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, type Azurite, type AzuriteOptions } from './azurite.js'
export { parseSize } from './parse-size.js'
export { expandPaths, PathError, type FileEntry, type ExpandResult } from './expand-paths.js'
export { ProgressRenderer, modeFor, type RendererOptions, type RenderMode, type TextOutput } from './progress-renderer.js'
export { UsageError } from './cli-args.js'
export { EXIT, type CliIo } from './cli-io.js'
