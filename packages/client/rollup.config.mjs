import { packageConfig } from '../../scripts/rollup-config.mjs'
export default packageConfig({ input: { 'index.node': 'src/index.node.ts' } })
