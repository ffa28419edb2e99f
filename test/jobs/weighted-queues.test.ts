import { afterEach, describe, expect, it } from 'vitest';
import type { QueueName } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { weightedOrder } from '../../src/jobs/weighted.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { seededRandom } from '../support/random.ts';
import { sleep, waitUntil } from '../support/wait.ts';

let bed = jobsTestbed('weighted');
afterEach(async () => {
  await bed.cleanup();
  bed = jobsTestbed('weighted');
});

/** A mux whose one task sleeps `ms` and records which queue each run came from and how many ran at once. */
function recordingMux(ms: number) {
  const stats = { started: [] as QueueName[], startedAt: [] as number[], running: 0, maxRunning: 0 };
  const mux = new ServeMux();
  mux.handle('update_inventory', async (_payload, ctx) => {
    stats.started.push(ctx.queue as QueueName);
    stats.startedAt.push(Date.now());
    stats.running++;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    await sleep(ms);
    stats.running--;
  });
  return { mux, stats };
}

async function fill(queue: QueueName, count: number) {
  const jobs = Array.from({ length: count }, (_, i) => ({ name: 'update_inventory', data: { order_id: i + 1 } }));
  await bed.client.queue(queue).addBulk(jobs);
}

const share = (started: QueueName[], queue: QueueName) => started.filter((q) => q === queue).length / started.length;

describe('weighted queues (critical 6, default 3, low 1) with one pool of 10 slots', () => {
  it('serves the queues about 6:3:1 when every queue has work, and never runs more than 10 at once', async () => {
    for (const queue of ['critical', 'default', 'low'] as const) await fill(queue, 600);
    const { mux, stats } = recordingMux(20);
    await bed.startServer(mux, { concurrency: 10, random: seededRandom(42) });

    // Measure the first 500 starts: all three queues still have work then.
    await waitUntil('500 jobs to start', () => stats.started.length >= 500, 25_000);
    const sample = stats.started.slice(0, 500);
    const ratio = { critical: share(sample, 'critical'), default: share(sample, 'default'), low: share(sample, 'low') };
    console.log(`[weighted] measured shares over 500 jobs: ${JSON.stringify(ratio)}`);

    expect(ratio.critical).toBeGreaterThan(0.52);
    expect(ratio.critical).toBeLessThan(0.68);
    expect(ratio.default).toBeGreaterThan(0.23);
    expect(ratio.default).toBeLessThan(0.37);
    expect(ratio.low).toBeGreaterThan(0.05);
    expect(ratio.low).toBeLessThan(0.15);
    expect(stats.maxRunning).toBe(10);
  });

  it('uses every slot when only the low queue has work', async () => {
    await fill('low', 30);
    const { mux, stats } = recordingMux(300);
    await bed.startServer(mux, { concurrency: 10 });

    await waitUntil('all 30 low jobs to start', () => stats.started.length >= 30, 15_000);
    expect(stats.maxRunning).toBe(10);
    expect(new Set(stats.started)).toEqual(new Set(['low']));
  });

  it('starts a job on an idle pool at once: it blocks in Redis, it does not poll', async () => {
    const { mux, stats } = recordingMux(1);
    await bed.startServer(mux, { concurrency: 10 });
    await sleep(300); // let every queue's blocking fetch settle in

    for (const queue of ['low', 'critical', 'default'] as const) {
      const before = stats.started.length;
      const enqueuedAt = Date.now();
      await bed.client.enqueue('update_inventory', { order_id: 1 }, { queue });
      await waitUntil(`the ${queue} job to start`, () => stats.started.length > before);
      // Polling every second (asynq) or BullMQ's 5 s drain delay would miss this by far.
      expect(stats.startedAt.at(-1)! - enqueuedAt).toBeLessThan(500);
      await sleep(100);
    }
  });

  it('keeps to the limit when jobs reach several empty queues at the same moment', async () => {
    const { mux, stats } = recordingMux(200);
    await bed.startServer(mux, { concurrency: 1 });
    await sleep(300);

    await Promise.all((['critical', 'default', 'low'] as const).map((queue) => bed.client.enqueue('update_inventory', { order_id: 1 }, { queue })));
    await waitUntil('the three jobs to start', () => stats.started.length === 3);
    expect(stats.maxRunning).toBe(1);
    expect(new Set(stats.started)).toEqual(new Set(['critical', 'default', 'low']));
  });
});

describe('weightedOrder', () => {
  it('puts each queue first in proportion to its weight', () => {
    const random = seededRandom(7);
    const firsts = { critical: 0, default: 0, low: 0 };
    for (let i = 0; i < 10_000; i++) firsts[weightedOrder({ critical: 6, default: 3, low: 1 }, random)[0]!]++;
    expect(firsts.critical / 10_000).toBeCloseTo(0.6, 1);
    expect(firsts.default / 10_000).toBeCloseTo(0.3, 1);
    expect(firsts.low / 10_000).toBeCloseTo(0.1, 1);
  });

  it('always lists every queue with a weight, and leaves out weight 0', () => {
    const order = weightedOrder({ critical: 6, default: 0, low: 1 }, seededRandom(1));
    expect([...order].sort()).toEqual(['critical', 'low']);
  });
});
