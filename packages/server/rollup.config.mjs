import { packageConfig } from '../../scripts/rollup-config.mjs'
export default packageConfig({
  input: {
    index: 'src/index.ts',
    s3: 'src/s3/index.ts',
    azure: 'src/azure/index.ts',
    node: 'src/node/index.ts',
    fastify: 'src/fastify/index.ts',
    hono: 'src/hono/index.ts',
    next: 'src/next/index.ts',
  },
})
