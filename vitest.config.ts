import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The exercise suites run through workshop/vitest.config.ts, against exercises/ or solutions/.
    exclude: ['test/exercises/**'],
    globalSetup: ['test/support/services/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2 cores, and many tests spawn worker/scheduler processes of their own.
    maxWorkers: 2,
  },
});
