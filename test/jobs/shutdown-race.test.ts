import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import type { JobServer } from '../../src/jobs/server.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('shutdown-race');
afterAll(() => bed.cleanup());
afterEach(() => {
  vi.restoreAllMocks();
});

// shutdown() can begin while the dispatcher is between two Redis calls, looking
// for the next job. It must still stop at once, not when BullMQ's blocking
// fetch times out (5 s later).
it('stops at once when shutdown begins while the dispatcher looks for a job', async () => {
  let server: JobServer | undefined;
  let armed = false;
  let stopping: Promise<void> | undefined;
  const mux = new ServeMux();
  mux.handle('send_receipt', async () => {
    // Once the worker is idle, blocking on the empty queue, the dispatcher wakes up only
    // when that fetch times out (BullMQ's 5 s), and then fetches again.
    setTimeout(() => (armed = true), 500);
  });
  server = await bed.startServer(mux, {
    queues: { default: 1 },
    // The dispatcher draws the queue order just before it fetches: the moment to begin the shutdown.
    random: () => {
      if (armed) {
        armed = false;
        stopping = server!.shutdown();
      }
      return 0.5;
    },
  });
  await bed.client.enqueue('send_receipt', { order_id: 1 });
  await waitUntil('the shutdown to begin', () => stopping !== undefined, 20_000);

  const startedAt = Date.now();
  await stopping;
  expect(Date.now() - startedAt).toBeLessThan(2_000);
}, 30_000);

// A slot that finishes a job asks BullMQ for the queue's next one in the same
// call. Shutdown may begin after the slot asked and before BullMQ answers: the
// job that comes back then must go back to its queue unstarted.
it('hands back, unstarted, a job that a finishing call brings back after shutdown began', async () => {
  const started: number[] = [];
  const mux = new ServeMux();
  mux.handle('send_receipt', async ({ order_id }) => {
    started.push(order_id);
  });
  await bed.client.enqueue('send_receipt', { order_id: 1 });
  await bed.client.enqueue('send_receipt', { order_id: 2 });

  let server: JobServer | undefined;
  let stopping: Promise<void> | undefined;
  // Begin the shutdown right after the slot has asked for the next job, before BullMQ hands it over.
  const processJob = QueueFetcher.prototype.processJob;
  vi.spyOn(QueueFetcher.prototype, 'processJob').mockImplementation(function (this: QueueFetcher, job, token, fetchNext) {
    return processJob.call(this, job, token, () => {
      const chained = fetchNext?.() ?? false;
      if (chained && !stopping) stopping = server!.shutdown();
      return chained;
    });
  });
  server = await bed.startServer(mux, { queues: { default: 1 }, concurrency: 1 });
  await waitUntil('the shutdown to begin', () => stopping !== undefined, 20_000);
  await stopping;
  vi.restoreAllMocks();

  expect(started).toEqual([1]);
  // Handed back, not lost: the next worker runs it.
  await bed.startServer(mux, { queues: { default: 1 } });
  await waitUntil('the handed-back job to run', () => started.includes(2), 20_000);
  expect(started).toEqual([1, 2]);
}, 30_000);
