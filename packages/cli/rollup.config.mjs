import { rmSync } from 'node:fs'
import { packageConfig } from '../../scripts/rollup-config.mjs'

// Chunk names carry content hashes: without a clean dist, every build leaves the old ones behind.
rmSync('dist', { recursive: true, force: true })

export default packageConfig({ input: { index: 'src/index.ts', bin: 'src/bin.ts' }, banner: { bin: '#!/usr/bin/env node' } })
