// A retry that falls due while the pool is idle starts then, not when the
// blocking fetch's 5 s timeout ends: the fetch that waits on a queue wakes for
// the delayed retry's due time, whichever fetch took the wake-up marker.
import { afterAll, expect, it } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('retry-wakeup');
afterAll(() => bed.cleanup());

it('starts each retry when it falls due, however the failures and the blocking fetches interleave', async () => {
  const starts = new Map<number, number[]>();
  const mux = new ServeMux();
  mux.handle('update_inventory', async ({ order_id }, ctx) => {
    starts.set(order_id, [...(starts.get(order_id) ?? []), Date.now()]);
    if (ctx.attempt === 1) throw new Error('the first try fails');
  });
  // Every retry waits 50 to 100 ms.
  await bed.startServer(mux, { queues: { critical: 6, default: 3, low: 1 }, concurrency: 10, retry: { baseDelayMs: 100, maxDelayMs: 100 } });

  const rounds = 8;
  const perRound = 3;
  for (let round = 0; round < rounds; round++) {
    const ids = Array.from({ length: perRound }, (_, i) => round * perRound + i + 1);
    await Promise.all(ids.map((order_id) => bed.client.enqueue('update_inventory', { order_id }, { maxRetry: 1 })));
    await waitUntil(`round ${round + 1}: each job's retry`, () => ids.every((id) => (starts.get(id)?.length ?? 0) >= 2), 20_000);
  }

  const waits = [...starts.values()].map(([first, second]) => second! - first!);
  console.log(`[retry-wakeup] retries started ${Math.min(...waits)} to ${Math.max(...waits)} ms after the first try (due after 50 to 100 ms)`);
  // Due after at most 100 ms; a retry left to the blocking fetch's timeout would start about 5 s later.
  expect(Math.max(...waits), `waits: ${waits.join(', ')} ms`).toBeLessThan(2_500);
});
