// Entry for .size-limit.mjs: what a page imports to upload with tus.
export { Upload } from 'tus-js-client'
