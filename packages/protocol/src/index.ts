/**
 * @module @valet/protocol — the wire contract between `@valet/client` and `@valet/server`:
 * message types, parsers, the error-code → HTTP-status table, and provider limits.
 */
export * from './base64.js'
export * from './errors.js'
export * from './limits.js'
export * from './messages.js'
export * from './download-messages.js'
export * from './parse.js'
export * from './parse-download.js'
export * from './etag.js'
export * from './hex.js'
export * from './option-kit.js'
