import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * `pnpm test:soak`: the fault suites, scaled up (VALET_SOAK=1: 16 parts per upload, each
 * scenario run 3 times; VALET_SOAK_PARTS / VALET_SOAK_REPEAT override), and 2 GiB downloads
 * killed (Node) or reloaded (Chromium) halfway; Node first (two files side by side), then Chromium. Not part of `pnpm test`. Rows go to
 * test-output/fault-matrix-soak/; `node scripts/fault-table.mjs --soak` renders them.
 */
process.env.VALET_SOAK = '1'

const alias = base.resolve?.alias

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/soak-results.json' },
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'soak-node',
          include: ['test/client/faults.test.ts', 'test/client/key-faults.test.ts', 'test/client/download-2gib.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          env: { VALET_SOAK: '1' },
          testTimeout: 1_800_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'soak-browser',
          include: ['test/browser/faults.test.ts', 'test/browser/download-2gib.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          env: { VALET_SOAK: '1' },
          testTimeout: 1_800_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
