/** The Valet worker script, bundled to one string by `rollup.config.mjs` (spark-md5 included). */
declare module 'virtual:valet-worker' {
  const source: string
  export default source
}
