// One rollup recipe for every package: ESM + bundled .d.ts per entry. ESM only: every Node the
// packages support (20.19+, 22.12+, 24) can require() ES modules, and p-limit, a dependency of
// the client, is ESM-only anyway. Each package passes its entries; dependencies stay external so
// users dedupe them.
import typescript from '@rollup/plugin-typescript'
import { dts } from 'rollup-plugin-dts'
import { readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * @param {{ input: Record<string, string>, cwd?: string, banner?: Record<string,string> }} opts
 */
export function packageConfig({ input, cwd = process.cwd(), banner = {} }) {
  // Chunk names carry content hashes: without a clean dist, every build leaves old files behind
  // (and `pnpm pack` would ship them). Rollup loads the config before it writes anything.
  rmSync(resolve(cwd, 'dist'), { recursive: true, force: true })
  const pkg = JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8'))
  const deps = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ]
  const external = (id) =>
    id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(`${d}/`))
  const ts = () =>
    typescript({
      tsconfig: resolve(cwd, 'tsconfig.json'),
      compilerOptions: { declaration: false, declarationMap: false, sourceMap: true, noEmit: false, outDir: undefined, rootDir: undefined },
      outputToFilesystem: false,
    })
  const withBanner = (chunk) => banner[chunk.name] ?? ''
  return [
    {
      input,
      external,
      plugins: [ts()],
      output: [
        { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', sourcemap: true, banner: withBanner },
      ],
    },
    {
      input,
      external,
      plugins: [dts({ tsconfig: resolve(cwd, 'tsconfig.json') })],
      output: [{ dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' }],
    },
  ]
}
