// The JobServer with its default weights (critical 6, default 3, low 1) when
// only some queues have work: a slot should not wait on the empty ones, so
// `low` alone should drain about as fast as `critical` alone.
import type { ConnectionOptions } from 'bullmq';
import { DEFAULT_QUEUE_WEIGHTS, type QueueName } from '../src/jobs/defaults.ts';
import { jobServer } from './throughput.ts';

/** busyQueuesRate fills `busy` in turn with `jobs` no-op jobs in all, runs them with concurrency 10, and returns jobs per second. */
export async function busyQueuesRate(connection: ConnectionOptions, prefix: string, jobs: number, busy: QueueName[]): Promise<number> {
  const ms = await jobServer(busy, DEFAULT_QUEUE_WEIGHTS)(connection, prefix, jobs, 10);
  return jobs / (ms / 1000);
}
