// Three builds of @valet/client:
// - dist/index.node.{js,cjs,d.ts}: the Node entry (shared recipe);
// - dist/index.browser.{js,d.ts}: the browser entry, ESM, dependencies external for users' bundlers;
// - dist/valet-client.js: the browser entry with every dependency inlined, for pages without a
//   build step (the example page, a <script type="module"> from a CDN).
// The worker script is a string module (`virtual:valet-worker`) that the browser entry imports
// dynamically: a lazy chunk in dist/chunks/ for users' bundlers (no worker file to configure),
// inlined into the standalone bundle.
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { rollup } from 'rollup'
import ts from 'typescript'
import { packageConfig } from '../../scripts/rollup-config.mjs'

const WORKER_ID = 'virtual:valet-worker'
const here = process.cwd()

/**
 * TypeScript to JavaScript without a type check, for the worker's three small files: the entry
 * builds and `tsc --noEmit` check them already, and a checked program costs ~20 s per build here.
 */
function transpileOnly() {
  return {
    name: 'valet-transpile-only',
    resolveId(id, importer) {
      if (importer === undefined || !id.startsWith('.') || !id.endsWith('.js')) return null
      const file = resolve(dirname(importer), id.replace(/\.js$/, '.ts'))
      return existsSync(file) ? file : null
    },
    transform(code, id) {
      if (!id.endsWith('.ts')) return null
      const out = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, esModuleInterop: true, sourceMap: true },
      })
      return { code: out.outputText, map: out.sourceMapText }
    },
  }
}

/** Loads a built file with its source map, so the standalone bundle maps back to the sources. */
function withSourceMaps() {
  return {
    name: 'valet-with-source-maps',
    load(id) {
      if (!id.endsWith('.js') || !existsSync(`${id}.map`)) return null
      return { code: readFileSync(id, 'utf8'), map: readFileSync(`${id}.map`, 'utf8') }
    },
  }
}

/** The directory of package `name` as seen from `fromDir` (pnpm links resolved). */
function packageDir(name, fromDir) {
  for (let dir = realpathSync(fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) throw new Error(`cannot find package ${name} from ${fromDir}`)
  }
}

/** The ESM browser entry of a package's `exports['.']` (or `module`, or `main`). */
function browserEntry(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  let target = pkg.exports?.['.'] ?? pkg.exports
  while (target !== null && typeof target === 'object') {
    const key = ['browser', 'import', 'default'].find((k) => k in target)
    if (key === undefined) break
    target = target[key]
  }
  return join(dir, typeof target === 'string' ? target : (pkg.module ?? pkg.main ?? 'index.js'))
}

/**
 * Resolves bare imports into the bundle, enough for this package's few dependencies (no general
 * node-resolve/commonjs plugin in the workspace): axios as its prebuilt browser ESM (the source
 * entry needs the `browser` field's file swaps), spark-md5 (UMD) wrapped as ESM.
 */
function inlineDependencies() {
  const umd = new Set()
  return {
    name: 'valet-inline-dependencies',
    resolveId(id, importer) {
      if (id.startsWith('\0') || id.startsWith('.') || id.startsWith('/') || id === WORKER_ID || importer === undefined) return null
      const name = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0]
      if (id !== name) throw new Error(`valet-inline-dependencies: deep import ${id} is not supported`)
      const dir = packageDir(name, dirname(importer))
      if (name === 'axios') return join(dir, 'dist', 'esm', 'axios.js')
      const file = browserEntry(dir)
      if (name === 'spark-md5') umd.add(file)
      return file
    },
    transform(code, id) {
      if (!umd.has(id)) return null
      // spark-md5 takes the CommonJS branch of its UMD header when `exports` is an object.
      return { code: `var module = { exports: {} }; var exports = module.exports;\n${code}\nexport default module.exports;\n`, map: null }
    },
  }
}

let workerCode
/** `import source from 'virtual:valet-worker'`: the worker script (hashing, sending), bundled to one classic script. */
function workerSource() {
  return {
    name: 'valet-worker',
    resolveId: (id) => (id === WORKER_ID ? `\0${WORKER_ID}` : null),
    async load(id) {
      if (id !== `\0${WORKER_ID}`) return null
      workerCode ??= (async () => {
        const bundle = await rollup({ input: resolve(here, 'src/browser/valet-worker.ts'), plugins: [inlineDependencies(), transpileOnly()] })
        const { output } = await bundle.generate({ format: 'iife', compact: true })
        await bundle.close()
        return output[0].code
      })()
      this.addWatchFile(resolve(here, 'src/browser/valet-worker.ts'))
      return `export default ${JSON.stringify(await workerCode)};\n`
    },
  }
}

const node = packageConfig({ input: { 'index.node': 'src/index.node.ts' } })

const [browserJs, browserDts] = packageConfig({ input: { 'index.browser': 'src/index.browser.ts' } })
browserJs.plugins.unshift(workerSource())
// Browsers load ES modules; CommonJS consumers are Node, which has its own entry.
browserJs.output = browserJs.output.filter((o) => o.format === 'es')
const dtsExternal = browserDts.external
browserDts.external = (id, ...rest) => id === WORKER_ID || dtsExternal(id, ...rest)

// From the browser build's output (rollup runs the configs in order): no second compile.
const standalone = {
  input: { 'valet-client': 'dist/index.browser.js' },
  plugins: [inlineDependencies(), withSourceMaps()],
  output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', sourcemap: true, inlineDynamicImports: true },
}

export default [...node, browserJs, browserDts, standalone]
