import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url))

// Tests run against the TypeScript sources; subprocess tests (CLI) use the rollup build.
const alias = [
  { find: /^@valet\/protocol$/, replacement: src('protocol/src/index.ts') },
  { find: /^@valet\/server$/, replacement: src('server/src/index.ts') },
  { find: /^@valet\/server\/(s3|azure|node|fastify|hono|next)$/, replacement: src('server/src/$1/index.ts') },
  { find: /^@valet\/client$/, replacement: src('client/src/index.node.ts') },
  { find: /^@valet\/cli$/, replacement: src('cli/src/index.ts') },
]

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/results.json' },
    projects: [
      {
        resolve: { alias },
        // Projects with different worker limits must run as separate groups (vitest 4).
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], environment: 'node', sequence: { groupOrder: 0 } },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: storage servers need CPU too.
          maxWorkers: 2,
          fileParallelism: true,
          sequence: { groupOrder: 1 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          // 256 MiB uploads through Chromium, throttled links, reloads: minutes, not seconds.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // One Chromium at a time: it, Swift and Azurite share two cores.
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
