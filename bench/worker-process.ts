// The worker as users run it: `npm run worker`, a process of its own, against a
// bare BullMQ Worker process on the same jobs. The jobs are queued while the
// queue is paused, the process starts and says it is ready, then the queue is
// resumed and timed until every job is done.
import type { ConnectionOptions } from 'bullmq';
import { JobsClient } from '../src/jobs/client.ts';
import { startNode, type NodeOptions } from './child.ts';
import { cpuMs, monotonicUs } from './process-cpu.ts';

export interface WorkerRun {
  redisUrl: string;
  prefix: string;
  jobs: number;
  uploadsDir: string;
  databasePath: string;
  smtpUrl: string;
  /** How to start the process: node flags, and the folder to run it from. */
  node?: NodeOptions;
}

/** Which process takes the jobs: the workshop's worker, or the bare BullMQ baseline. */
export type WorkerKind = 'npm run worker' | 'raw BullMQ Worker';

export interface WorkerResult {
  jobsPerSecond: number;
  /** The process's CPU time per job, in µs (undefined without /proc). */
  cpuUsPerJob: number | undefined;
  /** When the jobs ran, in monotonicUs(), to cut a CPU profile to them. */
  window: [number, number];
}

const POLL_MS = 10;

/** workerProcessRate runs `jobs` cleanup_uploads jobs through one worker process and measures it. */
export async function workerProcessRate(kind: WorkerKind, run: WorkerRun): Promise<WorkerResult> {
  const connection: ConnectionOptions = { url: run.redisUrl };
  const client = new JobsClient(connection, { prefix: run.prefix });
  const queue = client.queue('default');
  await queue.pause();
  for (let i = 0; i < run.jobs; i += 500) {
    const batch = Array.from({ length: Math.min(500, run.jobs - i) }, () => ({
      name: 'cleanup_uploads',
      data: {},
      opts: client.jobOptions(),
    }));
    await queue.addBulk(batch);
  }

  const env = { REDIS_URL: run.redisUrl, QUEUE_PREFIX: run.prefix, UPLOADS_DIR: run.uploadsDir };
  const worker =
    kind === 'npm run worker'
      ? await startNode('src/cmd/worker.ts', { ...env, DATABASE_PATH: run.databasePath, SMTP_URL: run.smtpUrl, LOG_LEVEL: 'info' }, /worker started/, run.node)
      : await startNode('bench/raw-worker.ts', env, /raw worker ready/, run.node);
  try {
    const cpuBefore = cpuMs(worker.process.pid);
    const from = monotonicUs();
    const startedAt = performance.now();
    await queue.resume();
    for (;;) {
      const { wait, prioritized, active, delayed, failed } = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
      // A failed attempt waits in `delayed` for its retry: none should fail here.
      if (delayed! + failed! > 0) throw new Error(`${kind}: jobs failed (${delayed} waiting to retry, ${failed} dead)`);
      if (wait! + prioritized! + active! === 0) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const jobsPerSecond = run.jobs / ((performance.now() - startedAt) / 1000);
    const cpuAfter = cpuMs(worker.process.pid);
    const cpuUsPerJob = cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / run.jobs;
    return { jobsPerSecond, cpuUsPerJob, window: [from, monotonicUs()] };
  } finally {
    await worker.stop();
    await client.close();
  }
}
