import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QueueName } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { sleep, waitUntil } from '../support/wait.ts';

let bed = jobsTestbed('empty-skip');
afterEach(async () => {
  vi.restoreAllMocks();
  await bed.cleanup();
  bed = jobsTestbed('empty-skip');
});

/** A mux whose one task sleeps `ms`, and records each start: its queue, its order_id, and how many ran at once. */
function recordingMux(ms: number) {
  const stats = { started: [] as { queue: QueueName; orderId: number; at: number }[], running: 0, maxRunning: 0 };
  const mux = new ServeMux();
  mux.handle('update_inventory', async (payload, ctx) => {
    stats.started.push({ queue: ctx.queue as QueueName, orderId: payload.order_id, at: Date.now() });
    stats.running++;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    if (ms > 0) await sleep(ms);
    stats.running--;
  });
  const startsFrom = (queue: QueueName) => stats.started.filter((start) => start.queue === queue);
  return { mux, stats, startsFrom };
}

async function fill(queue: QueueName, count: number) {
  const jobs = Array.from({ length: count }, (_, i) => ({ name: 'update_inventory', data: { order_id: i + 1 } }));
  await bed.client.queue(queue).addBulk(jobs);
}

/** Counts the JobServer's non-blocking fetches ("is there a job?", one Redis round trip each), per queue. */
function countProbes() {
  const spy = vi.spyOn(QueueFetcher.prototype, 'getNextJob');
  return () => {
    const probes = { critical: 0, default: 0, low: 0 };
    spy.mock.calls.forEach(([, opts], i) => {
      if (opts?.block === false) probes[(spy.mock.contexts[i] as QueueFetcher).name as QueueName]++;
    });
    return probes;
  };
}

describe('queues known to be empty (critical 6, default 3, low 1; 10 slots)', () => {
  it('are not asked for a job each time: with only low busy, a job costs no probe of critical or default', async () => {
    const jobs = 2_000;
    await fill('low', jobs);
    const probes = countProbes();
    const { mux, stats } = recordingMux(0);
    await bed.startServer(mux, { concurrency: 10 });

    await waitUntil(`all ${jobs} low jobs to start`, () => stats.started.length >= jobs, 25_000);
    const counted = probes();
    console.log(`[empty-skip] non-blocking fetches for ${jobs} low jobs: ${JSON.stringify(counted)}`);
    // critical and default are probed once when the server starts, and once more after
    // each 5 s timeout of their blocking fetch. Probing them per job would cost thousands.
    expect(counted.critical + counted.default).toBeLessThan(20);
    // Nearly every low job comes with the result of the one before it (BullMQ's fetch-next).
    expect(counted.low).toBeLessThan(jobs / 20);
    expect(new Set(stats.started.map((start) => start.orderId)).size).toBe(jobs);
    expect(stats.started.length).toBe(jobs);
  });

  it('still hear of a job that arrives: a critical job starts within a few starts of a long low backlog', async () => {
    await fill('low', 300); // 300 jobs of 100 ms on 10 slots: 3 s of backlog, 100 starts a second
    const { mux, stats, startsFrom } = recordingMux(100);
    await bed.startServer(mux, { concurrency: 10 });
    await waitUntil('30 low jobs to start', () => stats.started.length >= 30);

    await bed.client.enqueue('update_inventory', { order_id: 9_999 }, { queue: 'critical' });
    const enqueuedAt = Date.now();
    const [critical] = await waitUntil('the critical job to start', () => startsFrom('critical').length === 1 && startsFrom('critical'));

    const lowStartsBetween = startsFrom('low').filter((start) => start.at > enqueuedAt && start.at <= critical!.at).length;
    console.log(`[empty-skip] the critical job started ${critical!.at - enqueuedAt} ms after its enqueue, after ${lowStartsBetween} more low starts`);
    // It takes the next free slot: a few starts, more on a busy machine. Without a
    // blocking fetch on critical, it would wait for the rest of the backlog (about 250 jobs).
    expect(lowStartsBetween).toBeLessThanOrEqual(20);
    expect(stats.maxRunning).toBe(10);
  });

  it('still hear of a delayed job falling due', async () => {
    await fill('low', 600); // 600 jobs of 50 ms on 10 slots: 3 s of backlog
    const { mux, stats, startsFrom } = recordingMux(50);
    await bed.startServer(mux, { concurrency: 10 });
    await waitUntil('20 low jobs to start', () => stats.started.length >= 20);

    const dueAt = Date.now() + 300;
    await bed.client.enqueueIn('update_inventory', { order_id: 9_999 }, 300, { queue: 'critical' });
    const [critical] = await waitUntil('the delayed critical job to start', () => startsFrom('critical').length === 1 && startsFrom('critical'));

    const lowStartsAfterDue = startsFrom('low').filter((start) => start.at >= dueAt && start.at <= critical!.at).length;
    console.log(`[empty-skip] the delayed job started ${critical!.at - dueAt} ms after it fell due, after ${lowStartsAfterDue} more low starts`);
    expect(critical!.at).toBeGreaterThanOrEqual(dueAt - 50);
    // Waiting out the blocking fetch's 5 s timeout instead would let the whole backlog (about 500 more jobs) go first.
    expect(lowStartsAfterDue).toBeLessThan(100);
  });

  it('take at most one job per queue before a slot is free, and give it back on shutdown', async () => {
    const { mux, stats, startsFrom } = recordingMux(1_000);
    const server = await bed.startServer(mux, { concurrency: 2 });
    await sleep(300); // every queue is empty: a blocking fetch waits on each
    await fill('low', 2);
    await waitUntil('both slots to run a low job', () => stats.running === 2);

    await fill('critical', 5);
    await sleep(300);
    // One critical job is held for the next free slot; the other four wait in Redis for any worker.
    expect(await bed.client.queue('critical').getActiveCount()).toBe(1);
    expect(await bed.client.queue('critical').getWaitingCount()).toBe(4);

    await server.shutdown();
    expect(startsFrom('critical')).toHaveLength(0);
    expect(startsFrom('low')).toHaveLength(2);
    expect(await bed.client.queue('critical').getActiveCount()).toBe(0);
    expect(await bed.client.queue('critical').getWaitingCount()).toBe(5);
  });
});
