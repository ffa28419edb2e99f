import { Worker, type ConnectionOptions } from 'bullmq';
import { JobsClient } from '../src/jobs/client.ts';
import { ServeMux } from '../src/jobs/mux.ts';
import { JobServer } from '../src/jobs/server.ts';
import { median } from './median.ts';
import { silent } from './silent.ts';

/**
 * Pickup latency: an idle pool, one job enqueued, the time until its handler
 * starts. Returns the median over `rounds`, in ms.
 */
type Pickup = (connection: ConnectionOptions, prefix: string, rounds: number) => Promise<number>;

async function measure(client: JobsClient, rounds: number, started: () => Promise<void>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the pool go idle again
    const at = performance.now();
    const arrived = started();
    await client.enqueue('update_inventory', { order_id: i + 1 });
    await arrived;
    samples.push(performance.now() - at);
  }
  return median(samples);
}

/** A promise that the next handler call resolves. */
function nextCall() {
  let resolveNext: (() => void) | undefined;
  return {
    handler: async () => resolveNext?.(),
    next: () => new Promise<void>((resolve) => (resolveNext = resolve)),
  };
}

export const rawBullmqPickup: Pickup = async (connection, prefix, rounds) => {
  const client = new JobsClient(connection, { prefix });
  const calls = nextCall();
  const worker = new Worker('default', calls.handler, { connection, prefix, concurrency: 10 });
  await worker.waitUntilReady();
  const latency = await measure(client, rounds, calls.next);
  await worker.close();
  await client.close();
  return latency;
};

export const jobServerPickup: Pickup = async (connection, prefix, rounds) => {
  const client = new JobsClient(connection, { prefix });
  const calls = nextCall();
  const mux = new ServeMux();
  mux.handle('update_inventory', calls.handler);
  const server = new JobServer(connection, mux, { prefix, logger: silent });
  await server.start();
  const latency = await measure(client, rounds, calls.next);
  await server.shutdown();
  await client.close();
  return latency;
};
