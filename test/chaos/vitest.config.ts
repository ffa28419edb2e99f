import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The fault suite, `npm run test:chaos`: real processes, real signals, real
 * Redis restarts. Its files end in .chaos.ts so that `npm test` (which runs
 * test/**\/*.test.ts) leaves them out: they are slow.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    globalSetup: ['test/support/services/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // One scenario at a time: each kills processes and times recoveries, and a
    // second one running beside it on 2 cores would blur its numbers.
    maxWorkers: 1,
  },
});
