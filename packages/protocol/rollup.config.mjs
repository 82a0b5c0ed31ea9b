import { packageConfig } from '../../scripts/rollup-config.mjs'
export default packageConfig({ input: { index: 'src/index.ts' } })
