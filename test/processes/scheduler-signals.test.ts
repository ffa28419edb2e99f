import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';

afterAll(stopAll);

/** A stop must be quick: the scheduler has no jobs to drain, only connections to close. */
const EXIT_WITHIN_MS = 5_000;

async function stopsCleanly(env: Record<string, string>, ready: RegExp, signal: NodeJS.Signals, label: string) {
  const scheduler = spawnScript('src/cmd/scheduler.ts', { REDIS_CLUSTER_NODES: '', ...env }, label);
  await scheduler.waitForOutput(ready, 15_000);

  const signalledAt = Date.now();
  scheduler.kill(signal);
  expect(await scheduler.exited).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalledAt).toBeLessThan(EXIT_WITHIN_MS);
  expect(scheduler.output()).toContain(`${signal}: shutting down`);
}

describe('the scheduler process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`sent ${signal} while Redis cannot be reached: says so and exits 0`, async () => {
      const nobodyListens = `redis://127.0.0.1:${await freePort()}`;
      await stopsCleanly({ REDIS_URL: nobodyListens }, /Redis cannot be reached/, signal, `scheduler-no-redis-${signal}`);
    });
  }

  it('sent SIGTERM once its schedules are registered: exits 0', async () => {
    const env = { REDIS_URL: services().redisUrl, QUEUE_PREFIX: uniquePrefix('scheduler-signals') };
    await stopsCleanly(env, /cron schedules registered/, 'SIGTERM', 'scheduler-redis-up');
  });
});
