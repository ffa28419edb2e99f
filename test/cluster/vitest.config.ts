import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// With TEST_REDIS=cluster, the global setup starts a local Redis Cluster, and
// the suites below put their queues on it. Without it they would quietly run
// on one Redis: refuse instead.
if (process.env.TEST_REDIS !== 'cluster') {
  throw new Error('test/cluster/vitest.config.ts runs the suites against a Redis Cluster: run it with TEST_REDIS=cluster, as `npm run test:cluster` does');
}

/**
 * The cluster run, `npm run test:cluster`: the enqueue, delayed, retry,
 * weighted-queue and single-scheduler suites against a Redis Cluster of 3
 * masters, and the cluster's own suites (test/cluster/*.cluster.ts: the
 * harness, where the queues' keys land, the app's processes). Those end in
 * .cluster.ts so that `npm test` leaves them out.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: [
      'test/cluster/**/*.cluster.ts',
      'test/jobs/client.test.ts',
      'test/jobs/retries.test.ts',
      'test/jobs/empty-queue-skip.test.ts',
      'test/jobs/weighted-queues.test.ts',
      'test/processes/single-scheduler.test.ts',
    ],
    globalSetup: ['test/support/services/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
