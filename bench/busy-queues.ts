// The JobServer with its default weights (critical 6, default 3, low 1) when
// only some queues have work: a slot should not wait on the empty ones, so
// `low` alone should drain about as fast as `critical` alone.
import type { ConnectionOptions } from 'bullmq';
import { JobsClient } from '../src/jobs/client.ts';
import type { QueueName } from '../src/jobs/defaults.ts';
import { ServeMux } from '../src/jobs/mux.ts';
import { JobServer } from '../src/jobs/server.ts';
import { silent } from './silent.ts';

/** busyQueuesRate fills `busy` in turn with `jobs` no-op jobs in all, runs them with concurrency 10, and returns jobs per second. */
export async function busyQueuesRate(connection: ConnectionOptions, prefix: string, jobs: number, busy: QueueName[]): Promise<number> {
  const client = new JobsClient(connection, { prefix });
  for (let i = 0; i < jobs; i += 500) {
    const batch = Array.from({ length: Math.min(500, jobs - i) }, (_, j) => ({ name: 'update_inventory', data: { order_id: i + j + 1 } }));
    await client.queue(busy[(i / 500) % busy.length]!).addBulk(batch);
  }
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const mux = new ServeMux();
  mux.handle('update_inventory', async () => {
    if (++done === jobs) finished();
  });
  const server = new JobServer(connection, mux, { prefix, concurrency: 10, logger: silent });
  const startedAt = performance.now();
  await server.start();
  await allDone;
  const seconds = (performance.now() - startedAt) / 1000;
  await server.shutdown();
  await client.close();
  return jobs / seconds;
}
