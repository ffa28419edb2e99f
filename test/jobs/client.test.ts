import { afterAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError, JobsClient } from '../../src/jobs/client.ts';
import { DEFAULT_MAX_RETRY } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { producerConnection } from '../../src/jobs/connection.ts';
import { startRedisServer } from '../support/services/redis-server.ts';
import { uniquePrefix } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('client');
afterAll(() => bed.cleanup());

const DAY_MS = 24 * 60 * 60 * 1_000;

describe('JobsClient.enqueue', () => {
  it('stores the task name and payload on the default queue, ready to run', async () => {
    const { id, queue } = await bed.client.enqueue('send_welcome', { to: 'ada@example.test', name: 'Ada' });

    expect(queue).toBe('default');
    const job = await bed.client.queue('default').getJob(id);
    expect(job?.name).toBe('send_welcome');
    expect(job?.data).toEqual({ to: 'ada@example.test', name: 'Ada' });
    expect(await job?.getState()).toBe('waiting');
  });

  it('uses the asynq-like retry default: 25 retries with backoff', async () => {
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 1 });
    const job = await bed.client.queue('default').getJob(id);
    expect(job?.opts.attempts).toBe(DEFAULT_MAX_RETRY + 1);
    expect(job?.opts.backoff).toMatchObject({ type: 'exponential-jitter' });
  });

  it('takes the queue, maxRetry and job id per call', async () => {
    const { id, queue } = await bed.client.enqueue('send_receipt', { order_id: 2 }, { queue: 'critical', maxRetry: 3, jobId: 'receipt-2' });

    expect({ id, queue }).toEqual({ id: 'receipt-2', queue: 'critical' });
    const job = await bed.client.queue('critical').getJob('receipt-2');
    expect(job?.opts.attempts).toBe(4);
  });

  it('takes a default maxRetry of its own, which a call can still override', async () => {
    const client = new JobsClient(bed.connection, { prefix: bed.prefix, maxRetry: 3 });
    try {
      const byDefault = await client.enqueue('send_receipt', { order_id: 5 });
      const overridden = await client.enqueue('send_receipt', { order_id: 6 }, { maxRetry: 0 });
      expect((await client.queue('default').getJob(byDefault.id))?.opts.attempts).toBe(4);
      expect((await client.queue('default').getJob(overridden.id))?.opts.attempts).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('adds a job once when the same job id is enqueued twice', async () => {
    await bed.client.enqueue('update_inventory', { order_id: 3 }, { jobId: 'inventory-3' });
    await bed.client.enqueue('update_inventory', { order_id: 3 }, { jobId: 'inventory-3' });
    const jobs = await bed.client.queue('default').getJobs(['waiting']);
    expect(jobs.filter((job) => job.id === 'inventory-3')).toHaveLength(1);
  });

  it('rejects a payload that does not fit the task, and enqueues nothing', async () => {
    const before = await bed.client.queue('low').count();
    await expect(bed.client.enqueue('send_welcome', { to: 'not-an-email', name: 'x' }, { queue: 'low' })).rejects.toThrow(InvalidPayloadError);
    await expect(bed.client.enqueue('send_welcome', { to: 'not-an-email', name: 'x' }, { queue: 'low' })).rejects.toThrow(/bad payload for send_welcome: to:/);
    expect(await bed.client.queue('low').count()).toBe(before);
  });

  it('rejects an unknown queue name', async () => {
    // @ts-expect-error: the type already forbids it; this is what a JavaScript caller gets.
    await expect(bed.client.enqueue('send_receipt', { order_id: 1 }, { queue: 'urgent' })).rejects.toThrow(/unknown queue "urgent"/);
  });
});

describe('JobsClient.enqueueIn', () => {
  it('makes a job due 7 days from now, without waiting for it', async () => {
    const before = Date.now();
    const { id } = await bed.client.enqueueIn('ask_for_review', { order_id: 7 }, 7 * DAY_MS, { queue: 'low' });
    const after = Date.now();

    const job = await bed.client.queue('low').getJob(id);
    expect(await job?.getState()).toBe('delayed');
    const dueAt = job!.timestamp + job!.delay;
    expect(dueAt).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(dueAt).toBeLessThanOrEqual(after + 7 * DAY_MS);
  });

  it('runs a short delayed job once its delay has passed, not before', async () => {
    const mux = new ServeMux();
    let ranAt = 0;
    mux.handle('send_birthday_email', async () => {
      ranAt = Date.now();
    });
    await bed.startServer(mux, { queues: { critical: 1 } });

    const enqueuedAt = Date.now();
    await bed.client.enqueueIn('send_birthday_email', { user_id: 1 }, 700, { queue: 'critical' });
    await waitUntil('the delayed job to run', () => ranAt > 0);
    expect(ranAt - enqueuedAt).toBeGreaterThanOrEqual(700);
  });

  it('refuses a negative delay', async () => {
    await expect(bed.client.enqueueIn('ask_for_review', { order_id: 1 }, -5)).rejects.toThrow(RangeError);
  });
});

describe('JobsClient on a fail-fast connection', () => {
  it('recovers a queue whose start-up met a dropped connection: once Redis is back, enqueue works again', async () => {
    const server = await startRedisServer();
    const redis = producerConnection({ redisUrl: server.url });
    const client = new JobsClient(redis, { prefix: uniquePrefix('client-recover') });
    try {
      await waitUntil('the connection', () => redis.status === 'ready');
      // The first enqueue makes the queue, and BullMQ sends its start-up command;
      // the connection drops with that command in flight, and Redis goes away.
      const first = client.enqueue('send_receipt', { order_id: 1 }).then(
        () => 'enqueued',
        (err: Error) => err,
      );
      (redis as unknown as { stream: { destroy(): void } }).stream.destroy();
      await server.stop();
      expect(await first).toBeInstanceOf(Error);

      await server.start();
      await waitUntil('the connection to come back', () => redis.status === 'ready', 15_000);
      const { id } = await client.enqueue('send_receipt', { order_id: 2 });
      expect(await client.queue('default').getJobState(id)).toBe('waiting');
    } finally {
      await client.close().catch(() => {});
      redis.disconnect();
      await server.stop();
    }
  });
});
