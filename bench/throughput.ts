import { Worker, type ConnectionOptions } from 'bullmq';
import { JobsClient } from '../src/jobs/client.ts';
import type { QueueName } from '../src/jobs/defaults.ts';
import { ServeMux } from '../src/jobs/mux.ts';
import { JobServer } from '../src/jobs/server.ts';
import { silent } from './silent.ts';

/** Runs `jobs` no-op jobs through a pool of `concurrency` and returns the wall time in ms. */
type Runner = (connection: ConnectionOptions, prefix: string, jobs: number, concurrency: number) => Promise<number>;

async function fill(client: JobsClient, jobs: number, queues: QueueName[]) {
  for (let i = 0; i < jobs; i += 500) {
    const batch = Array.from({ length: Math.min(500, jobs - i) }, (_, j) => ({ name: 'update_inventory', data: { order_id: i + j + 1 } }));
    const queue = queues[(i / 500) % queues.length]!;
    await client.queue(queue).addBulk(batch);
  }
}

/** rawBullmq: one BullMQ Worker on one queue, BullMQ's own fetch loop. */
export const rawBullmq: Runner = async (connection, prefix, jobs, concurrency) => {
  const client = new JobsClient(connection, { prefix });
  await fill(client, jobs, ['default']);
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const startedAt = performance.now();
  const worker = new Worker('default', async () => {}, { connection, prefix, concurrency });
  worker.on('completed', () => ++done === jobs && finished());
  await allDone;
  const ms = performance.now() - startedAt;
  await worker.close();
  await client.close();
  return ms;
};

/**
 * jobServer: this workshop's JobServer, with the jobs spread over `queues`. It
 * serves a single queue alone, unless `weights` names the queues it serves.
 */
export function jobServer(queues: QueueName[], weights?: Partial<Record<QueueName, number>>): Runner {
  return async (connection, prefix, jobs, concurrency) => {
    const client = new JobsClient(connection, { prefix });
    await fill(client, jobs, queues);
    let done = 0;
    let finished!: () => void;
    const allDone = new Promise<void>((resolve) => (finished = resolve));
    const mux = new ServeMux();
    mux.handle('update_inventory', async () => {
      if (++done === jobs) finished();
    });
    const served = weights ?? (queues.length === 1 ? { [queues[0]!]: 1 } : undefined);
    const startedAt = performance.now();
    const server = new JobServer(connection, mux, { prefix, concurrency, queues: served, logger: silent });
    await server.start();
    await allDone;
    const ms = performance.now() - startedAt;
    await server.shutdown();
    await client.close();
    return ms;
  };
}
