// A slot that finishes a job draws the queue of its next job first. When the
// draw names the same queue, BullMQ hands back that queue's next job with the
// result. When it names another queue, a spare of that queue usually waits: a
// job that came back, for free, with the result of a slot that left that
// queue. When none waits, the slot asks that queue while the result is being
// written: the two are in flight together. Either way a slot that moves
// between queues costs no more round-trip time than one that stays.
import { afterEach, expect, it, vi } from 'vitest';
import type { QueueName } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { captureLog } from '../support/course/log.ts';
import type { JobServer } from '../../src/jobs/server.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

let bed = jobsTestbed('queue-switch');
afterEach(async () => {
  vi.restoreAllMocks();
  await bed.cleanup();
  bed = jobsTestbed('queue-switch');
});

/** Weights critical 1, default 1: each weighted draw calls random() twice, and the first call decides. */
const TWO_QUEUES = { critical: 1, default: 1 };

/** A random source whose draws name critical, default, critical, …: with one slot, every job's next job comes from the other queue. */
function alternatingDraws(): () => number {
  let calls = 0;
  return () => {
    const call = calls++;
    if (call % 2 === 1) return 0.5; // the second pick of a draw: one queue left
    return Math.floor(call / 2) % 2 === 0 ? 0.1 : 0.9;
  };
}

/** A mux whose one task records the queue and order_id of each start. */
function recordingMux() {
  const started: { queue: QueueName; orderId: number }[] = [];
  const mux = new ServeMux();
  mux.handle('update_inventory', async (payload, ctx) => {
    started.push({ queue: ctx.queue as QueueName, orderId: payload.order_id });
  });
  return { mux, started };
}

async function fill(queue: QueueName, orderIds: number[]) {
  await bed.client.queue(queue).addBulk(orderIds.map((id) => ({ name: 'update_inventory', data: { order_id: id } })));
}

/**
 * watchFinishes wraps QueueFetcher: a finish is in flight from the moment
 * BullMQ asks the slot whether to fetch with the result (just before it writes
 * the result) until processJob resolves. Each non-blocking fetch is recorded
 * with its queue, whether a finish was in flight when it was sent, and
 * (once answered) whether it brought a job.
 * onFetchDuringFinish runs right after such a fetch is sent.
 */
function watchFinishes(onFetchDuringFinish: () => void = () => {}) {
  let finishing = 0;
  const fetches: { queue: string; duringFinish: boolean; gotJob?: boolean }[] = [];
  const processJob = QueueFetcher.prototype.processJob;
  vi.spyOn(QueueFetcher.prototype, 'processJob').mockImplementation(async function (this: QueueFetcher, job, token, fetchNext) {
    let inFlight = false;
    try {
      return await processJob.call(this, job, token, () => {
        if (!inFlight) finishing++;
        inFlight = true;
        return fetchNext?.() ?? false;
      });
    } finally {
      if (inFlight) finishing--;
    }
  });
  const getNextJob = QueueFetcher.prototype.getNextJob;
  vi.spyOn(QueueFetcher.prototype, 'getNextJob').mockImplementation(function (this: QueueFetcher, token, opts) {
    const sent = getNextJob.call(this, token, opts);
    if (opts?.block === false) {
      const fetch: (typeof fetches)[number] = { queue: this.name, duringFinish: finishing > 0 };
      fetches.push(fetch);
      sent.then((job) => (fetch.gotJob = job !== undefined), () => (fetch.gotJob = false));
      if (finishing > 0) onFetchDuringFinish();
    }
    return sent;
  });
  return fetches;
}

it('moves between queues without a round trip of its own: a spare waits, or the fetch goes beside the result', async () => {
  const JOBS = 10; // on each queue
  await fill('critical', Array.from({ length: JOBS }, (_, i) => i + 1));
  await fill('default', Array.from({ length: JOBS }, (_, i) => 101 + i));
  const fetches = watchFinishes();
  const { mux, started } = recordingMux();
  await bed.startServer(mux, { queues: TWO_QUEUES, concurrency: 1, random: alternatingDraws() });

  await waitUntil(`all ${2 * JOBS} jobs to start`, () => started.length === 2 * JOBS);
  await waitUntil('every result to be written', async () => (await bed.client.queue('default').getCompletedCount()) === JOBS);
  // Each job's next came from the other queue, as drawn.
  expect(started.map((start) => start.queue)).toEqual(Array.from({ length: 2 * JOBS }, (_, i) => (i % 2 === 0 ? 'critical' : 'default')));
  expect(await bed.client.queue('critical').getCompletedCount()).toBe(JOBS);

  const withJob = fetches.filter((fetch) => fetch.gotJob);
  console.log(`[queue-switch] ${fetches.length} non-blocking fetches for ${2 * JOBS} jobs, ${withJob.length} of them brought one`);
  // Two fetches brought a job: the very first, and the first move's, which
  // finds no spare and goes beside the result. Every later move finds the
  // spare that the previous result brought back. (The fetches that bring none
  // find the queues empty at the end.) Fetching after each result, one round
  // trip after the other, or beside each result without spares, takes a
  // fetch of its own for each of the 19 moves.
  expect(withJob).toEqual([
    { queue: 'critical', duringFinish: false, gotJob: true },
    { queue: 'default', duringFinish: true, gotJob: true },
  ]);
});

it('hands back, unstarted, the spare it kept when shutdown begins', async () => {
  await fill('critical', [1, 3]);
  await fill('default', [2, 4]);
  let server: JobServer | undefined;
  let stopping: Promise<void> | undefined;
  const { mux, started } = recordingMux();
  // Job 2 runs after job 1's result brought back job 3 as critical's spare: shut down then.
  mux.handle('send_receipt', async () => {});
  const process = mux.process.bind(mux);
  vi.spyOn(mux, 'process').mockImplementation(async (job, log) => {
    await process(job, log);
    if ((job.data as { order_id?: number }).order_id === 2) stopping ??= server!.shutdown();
  });
  server = await bed.startServer(mux, { queues: TWO_QUEUES, concurrency: 1, random: alternatingDraws() });
  await waitUntil('the shutdown to begin', () => stopping !== undefined);
  await stopping;

  expect(started.map((start) => start.orderId)).toEqual([1, 2]);
  // The spare, job 3, is back in critical's waiting list, not stuck as active.
  expect(await bed.client.queue('critical').getActiveCount()).toBe(0);
  expect(await bed.client.queue('critical').getWaitingCount()).toBe(1);
  expect(await bed.client.queue('default').getActiveCount()).toBe(0);
  // Handed back, not lost: the next worker runs it.
  vi.restoreAllMocks();
  await bed.startServer(mux, { queues: TWO_QUEUES });
  await waitUntil('the rest to run', () => started.length === 4);
  expect(started.map((start) => start.orderId).sort()).toEqual([1, 2, 3, 4]);
});

it('hands back, unstarted, a job fetched beside a result when shutdown began meanwhile', async () => {
  await fill('critical', [1]);
  await fill('default', [2]);
  let server: JobServer | undefined;
  let stopping: Promise<void> | undefined;
  // Begin the shutdown right after the slot has sent the fetch from default, before Redis answers it.
  watchFinishes(() => (stopping ??= server!.shutdown()));
  const { mux, started } = recordingMux();
  server = await bed.startServer(mux, { queues: TWO_QUEUES, concurrency: 1, random: alternatingDraws() });
  await waitUntil('the shutdown to begin', () => stopping !== undefined);
  await stopping;
  vi.restoreAllMocks();

  expect(started.map((start) => start.orderId)).toEqual([1]);
  expect(await bed.client.queue('critical').getCompletedCount()).toBe(1);
  expect(await bed.client.queue('default').getActiveCount()).toBe(0);
  expect(await bed.client.queue('default').getWaitingCount()).toBe(1);
  // Handed back, not lost: the next worker runs it.
  await bed.startServer(mux, { queues: TWO_QUEUES });
  await waitUntil('the handed-back job to run', () => started.length === 2);
  expect(started.map((start) => start.orderId)).toEqual([1, 2]);
});

it('writes the result, and goes on, when the fetch beside it fails', async () => {
  await fill('critical', [1, 3]);
  await fill('default', [2, 4]);
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  let finishing = false;
  let refusedFetches = 0;
  const processJob = QueueFetcher.prototype.processJob;
  vi.spyOn(QueueFetcher.prototype, 'processJob').mockImplementation(async function (this: QueueFetcher, job, token, fetchNext) {
    try {
      return await processJob.call(this, job, token, () => {
        finishing = true;
        return fetchNext?.() ?? false;
      });
    } finally {
      finishing = false;
    }
  });
  // The first fetch sent beside a result fails, as it does when Redis drops that queue's connection.
  const getNextJob = QueueFetcher.prototype.getNextJob;
  vi.spyOn(QueueFetcher.prototype, 'getNextJob').mockImplementation(function (this: QueueFetcher, token, opts) {
    if (opts?.block === false && finishing && refusedFetches === 0) {
      refusedFetches++;
      return Promise.reject(refused());
    }
    return getNextJob.call(this, token, opts);
  });
  const capture = captureLog();
  const errors = () => capture.lines().map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 40);
  const { mux, started } = recordingMux();
  await bed.startServer(mux, { queues: TWO_QUEUES, concurrency: 1, random: alternatingDraws(), logger: capture.logger });

  await waitUntil('all four jobs to start', () => started.length === 4, 20_000);
  expect(refusedFetches).toBe(1);
  // Told as a failed fetch, through the worker's one Redis error log; the result is not in doubt.
  expect(errors().map((line) => line.msg)).toEqual([expect.stringMatching(/^Redis cannot be reached.*\(ECONNREFUSED\): is it running\?$/)]);
  expect(started.map((start) => start.orderId).sort()).toEqual([1, 2, 3, 4]);
  // Every result was written, the first job's too, although the fetch beside it failed.
  await waitUntil('every result to be written', async () => {
    const [critical, defaults] = await Promise.all([bed.client.queue('critical').getCompletedCount(), bed.client.queue('default').getCompletedCount()]);
    return critical + defaults === 4;
  });
}, 30_000);
