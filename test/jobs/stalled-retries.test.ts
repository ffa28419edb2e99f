import { afterAll, describe, expect, it } from 'vitest';
import { services } from '../support/services/services.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('stalled-retries');
afterAll(async () => {
  await stopAll();
  await bed.cleanup();
});

/** Matches the worker's log line for the start of one job. */
const started = (id: string) => new RegExp(`"job":"${id}"[^\n]*"msg":"job started"`);
const slowWorker = (jobMs: number, label: string) =>
  spawnScript('test/support/fixtures/slow-worker.ts', { REDIS_URL: services().redisUrl, QUEUE_PREFIX: bed.prefix, JOB_MS: String(jobMs) }, label);

/** killMidJob starts a worker whose job hangs, waits until it runs the job, and kills it with SIGKILL. */
async function killMidJob(jobId: string, label: string): Promise<void> {
  const doomed: ChildScript = slowWorker(60_000, label);
  await doomed.waitForOutput(/worker started/, 20_000);
  // The first worker finds the job waiting; later ones take it back from the stalled check.
  await doomed.waitForOutput(started(jobId), 25_000);
  doomed.kill('SIGKILL');
  await doomed.exited;
}

describe('a job whose worker dies', () => {
  it('twice, each killed mid-job: the stalled check puts it back both times and a third worker completes it', { timeout: 120_000 }, async () => {
    const { id } = await bed.client.enqueue('resize_image', { upload: 'cat.png', width: 64 });
    const queue = bed.client.queue('default');

    await killMidJob(id, 'first-doomed-worker');
    await killMidJob(id, 'second-doomed-worker');
    expect(await queue.getJobState(id)).toBe('active'); // left behind, locked by a dead worker

    const rescuer = slowWorker(200, 'rescuer-worker');
    try {
      const state = await waitUntil(
        'the job to settle',
        async () => {
          const now = await queue.getJobState(id);
          return (now === 'completed' || now === 'failed') && now;
        },
        40_000,
      );
      const job = await queue.getJob(id);
      expect({ state, failedReason: job?.failedReason }).toEqual({ state: 'completed', failedReason: undefined });
      // Losing a worker used no attempt: the job completed on its first.
      expect(job?.attemptsMade).toBe(1);
    } finally {
      rescuer.kill('SIGTERM');
      await rescuer.exited;
    }
  });
});
