import { cpSync } from 'node:fs'
import { packageConfig } from '../../scripts/rollup-config.mjs'

const [js, dts] = packageConfig({ input: { index: 'src/index.ts', bin: 'src/bin.ts' }, banner: { bin: '#!/usr/bin/env node' } })

// `valet dev` serves the repository's example page; installed from npm, this copy of it.
js.plugins.push({
  name: 'valet-example-page',
  writeBundle() {
    cpSync('../../examples/browser', 'dist/page', { recursive: true, filter: (src) => !src.endsWith('README.md') })
  },
})

export default [js, dts]
