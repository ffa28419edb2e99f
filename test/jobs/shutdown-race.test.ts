import { afterAll, expect, it } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import type { JobServer } from '../../src/jobs/server.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('shutdown-race');
afterAll(() => bed.cleanup());

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
