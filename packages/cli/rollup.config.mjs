import { packageConfig } from '../../scripts/rollup-config.mjs'
export default packageConfig({ input: { index: 'src/index.ts', bin: 'src/bin.ts' }, banner: { bin: '#!/usr/bin/env node' } })
