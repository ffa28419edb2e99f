import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { services } from '../support/services/services.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('worker-process');
const redis = new Redis(services().redisUrl);
afterAll(async () => {
  await stopAll();
  await bed.cleanup();
  redis.disconnect();
});

const doneKey = `${bed.prefix}:done`;
/** Matches the worker's log line for the start of one job (the queue may hold others from earlier tests). */
const started = (id: string) => new RegExp(`"job":"${id}"[^\n]*"msg":"job started"`);
const slowWorker = (jobMs: number, label: string, env: Record<string, string> = {}) =>
  spawnScript('test/support/fixtures/slow-worker.ts', { REDIS_URL: services().redisUrl, QUEUE_PREFIX: bed.prefix, JOB_MS: String(jobMs), ...env }, label);

describe('a worker process', () => {
  it('killed with SIGKILL mid-job: another worker picks the job up and completes it', async () => {
    const doomed = slowWorker(60_000, 'doomed-worker');
    await doomed.waitForOutput(/worker started/, 20_000);
    const { id } = await bed.client.enqueue('resize_image', { upload: 'cat.png', width: 64 });
    await doomed.waitForOutput(started(id));
    doomed.kill('SIGKILL');
    await doomed.exited;
    expect(await bed.client.queue('default').getJobState(id)).toBe('active'); // left behind, locked by a dead worker

    const rescuer = slowWorker(200, 'rescuer-worker');
    try {
      await waitUntil('the rescuer to complete the job', async () => (await bed.client.queue('default').getJobState(id)) === 'completed', 25_000);
      expect(await redis.lrange(doneKey, 0, -1)).toContainEqual(expect.stringMatching(new RegExp(`^${id}@`)));
    } finally {
      rescuer.kill('SIGTERM');
      await rescuer.exited;
    }
  });

  it('sent SIGTERM: finishes its active job, takes no new one, and exits 0', async () => {
    const worker = slowWorker(1_500, 'draining-worker');
    await worker.waitForOutput(/worker started/, 20_000);
    const first = await bed.client.enqueue('resize_image', { upload: 'dog.png', width: 64 });
    await worker.waitForOutput(started(first.id));

    worker.kill('SIGTERM');
    await worker.waitForOutput(/shutting down/);
    const second = await bed.client.enqueue('resize_image', { upload: 'owl.png', width: 64 });

    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await redis.lrange(doneKey, 0, -1)).toContainEqual(expect.stringMatching(new RegExp(`^${first.id}@`)));
    expect(await bed.client.queue('default').getJobState(first.id)).toBe('completed');
    expect(await bed.client.queue('default').getJobState(second.id)).toBe('waiting');
  });

  it('sent SIGTERM with a job longer than the shutdown timeout: exits 0 after the timeout and leaves the job in Redis', async () => {
    const worker = slowWorker(60_000, 'timeout-worker', { SHUTDOWN_TIMEOUT_MS: '500' });
    await worker.waitForOutput(/worker started/, 20_000);
    const { id } = await bed.client.enqueue('resize_image', { upload: 'yak.png', width: 64 });
    await worker.waitForOutput(started(id));

    const stoppedAt = Date.now();
    worker.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(worker.output()).toMatch(/shutdown timeout: leaving running jobs to the stalled check/);
    // Not completed and not lost: still active, so the stalled check of another worker will run it.
    expect(await bed.client.queue('default').getJobState(id)).toBe('active');
  });
});
