import { MetricsTime, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { services } from '../support/services/services.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

// The admin page's throughput chart reads BullMQ's per-minute metrics. BullMQ
// counts a job in the script that records its result, which JobServer calls
// from its own fetch loop, not from Worker.run(): this proves it still counts.
const bed = jobsTestbed('metrics');
const redis = new Redis(services().redisUrl);
afterAll(async () => {
  await bed.cleanup();
  redis.disconnect();
});

/** Orders from this number on do not exist: their receipts are dead at once. */
const MISSING_ORDER = 1_000;

const mux = new ServeMux();
mux.handle('send_receipt', async ({ order_id }) => {
  if (order_id >= MISSING_ORDER) throw new UnrecoverableError(`order ${order_id} does not exist`);
});
await bed.startServer(mux);

/**
 * metricsOf reads a queue's metrics as the admin page's chart does: `total`
 * jobs so far, and per minute, the minutes already closed (`data`, newest
 * first) plus the minute in progress (`total - prevCount`).
 */
async function metricsOf(type: 'completed' | 'failed') {
  const { meta, data } = await bed.client.queue('default').getMetrics(type);
  const perMinute = [meta.count - meta.prevCount, ...data.map(Number)];
  return { total: meta.count, perMinute };
}

describe('throughput metrics', () => {
  it('counts completed and failed jobs per minute, on the manual fetch path', async () => {
    const done = await Promise.all([1, 2, 3, 4, 5].map((order_id) => bed.client.enqueue('send_receipt', { order_id })));
    const dead = await Promise.all([MISSING_ORDER, MISSING_ORDER + 1].map((order_id) => bed.client.enqueue('send_receipt', { order_id })));

    const completed = await waitUntil('5 completed jobs in the metrics', async () => {
      const metrics = await metricsOf('completed');
      return metrics.total >= done.length ? metrics : undefined;
    });
    const failed = await waitUntil('2 failed jobs in the metrics', async () => {
      const metrics = await metricsOf('failed');
      return metrics.total >= dead.length ? metrics : undefined;
    });

    expect(completed.total).toBe(5);
    expect(failed.total).toBe(2);
    // Every job is in one minute's point, the one in progress or a closed one.
    expect(sum(completed.perMinute)).toBe(5);
    expect(sum(failed.perMinute)).toBe(2);
  });

  it('keeps a week of per-minute points, no more', async () => {
    // Pretend the last count was two weeks ago: the next job fills the minutes
    // since with zeros, and BullMQ trims the list to the worker's maxDataPoints.
    const metaKey = `${bed.prefix}:low:metrics:completed`;
    await redis.hset(metaKey, 'count', 0, 'prevTS', Date.now() - 14 * 24 * 60 * 60_000, 'prevCount', 0);

    const { id } = await bed.client.enqueue('send_receipt', { order_id: 6 }, { queue: 'low' });
    await waitUntil(`job ${id} to complete`, async () => (await bed.client.queue('low').getJobState(id)) === 'completed');

    expect(await redis.llen(`${metaKey}:data`)).toBe(MetricsTime.ONE_WEEK);
  });
});

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
