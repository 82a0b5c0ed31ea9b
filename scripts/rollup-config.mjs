// One rollup recipe for every package: ESM + CJS + bundled .d.ts per entry.
// Each package passes its entries; dependencies stay external so users dedupe them.
import typescript from '@rollup/plugin-typescript'
import { dts } from 'rollup-plugin-dts'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * @param {{ input: Record<string, string>, cwd?: string, banner?: Record<string,string> }} opts
 */
export function packageConfig({ input, cwd = process.cwd(), banner = {} }) {
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
        { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', sourcemap: true, exports: 'named', banner: withBanner },
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
