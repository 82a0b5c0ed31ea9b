// `pnpm test` runs this (test/packaging/bundle-size.test.ts): the browser build of
// `import { createUploader } from '@valet/client'`, bundled and minified by esbuild, counts its
// initial chunk only — the hashing worker and the spark-md5 fallback are lazy chunks, loaded on
// first use. tus-js-client and Uppy are measured the same way for docs/benchmarks.md (no limit).
import { fileURLToPath } from 'node:url'

const peer = (name) => fileURLToPath(new URL(`./bench/bundle-size/${name}.js`, import.meta.url))
const client = fileURLToPath(new URL('./packages/client/dist/index.browser.js', import.meta.url))

/** What a page loads at once: `import()`ed chunks stay out (external). */
const lazyChunksOut = {
  name: 'lazy-chunks-out',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined))
  },
}
const modifyEsbuildConfig = (config) => ({ ...config, format: 'esm', platform: 'browser', plugins: [lazyChunksOut] })
const check = (name, imports, limit, lazy = true) => ({
  name,
  import: imports,
  gzip: true,
  ...(lazy ? { modifyEsbuildConfig } : {}),
  ...(limit ? { limit } : {}),
})

export default [
  check('@valet/client (browser): createUploader', { [client]: '{ createUploader }' }, '30 KB'),
  check('@valet/client (browser): everything', { [client]: '*' }),
  // Dynamic imports inlined (esbuild without splitting): what the lazy chunks add up to.
  check('@valet/client (browser): createUploader, lazy chunks included', { [client]: '{ createUploader }' }, undefined, false),
  check('tus-js-client: Upload', { [peer('tus-js-client')]: '{ Upload }' }),
  check('@uppy/aws-s3', { [peer('uppy-aws-s3')]: '{ AwsS3 }' }),
  check('@uppy/core + @uppy/aws-s3', { [peer('uppy-core-aws-s3')]: '{ Uppy, AwsS3 }' }),
]
