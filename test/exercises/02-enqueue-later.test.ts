// Exercise 02: enqueueIn adds a task that becomes due after a delay, at the right time.
import { afterAll, describe, expect, it } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { explain, explainJob, explainLog } from '../course/evidence.ts';
import { captureLog } from '../course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { sleep, waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('ex02');
afterAll(() => bed.cleanup());

const HOUR_MS = 60 * 60 * 1_000;
const DAY_MS = 24 * HOUR_MS;
/** How far off a due time may be: the time between reading the clock here and Redis storing the job. */
const SLACK_MS = 5_000;

/** dueAt is when BullMQ will move a delayed job to its queue's wait list. */
const dueAt = (job: { timestamp: number; delay: number }) => job.timestamp + job.delay;
const iso = (ms: number) => new Date(ms).toISOString();

describe('JobsClient.enqueueIn', () => {
  it('adds a delayed job that is due 24 hours from now, as "send a reminder in 24 h" needs (TODO 1, 2)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);
    const before = Date.now();

    ({ id } = await bed.client.enqueueIn('send_welcome', { to: 'ada@example.test', name: 'Ada' }, DAY_MS));

    const job = await bed.client.queue('default').getJob(id);
    expect(await job!.getState(), 'a job with a delay should wait in the delayed set, not in the wait list').toBe('delayed');
    const due = dueAt(job!);
    explain('the due time', () => `expected about ${iso(before + DAY_MS)}, got ${iso(due)}`);
    expect(due).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(due).toBeLessThan(before + DAY_MS + SLACK_MS);
  });

  it('keeps a review request for 7 days, due on the right day (TODO 1, 2)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('low'), () => id);
    const before = Date.now();

    ({ id } = await bed.client.enqueueIn('ask_for_review', { order_id: 7 }, 7 * DAY_MS, { queue: 'low' }));

    const job = await bed.client.queue('low').getJob(id);
    expect(await job!.getState()).toBe('delayed');
    expect(dueAt(job!), 'the job should be due 7 days after it was enqueued').toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(dueAt(job!)).toBeLessThan(before + 7 * DAY_MS + SLACK_MS);
  });

  it('is not run by a worker before it is due, and runs once it is (TODO 1, 2)', async () => {
    const log = captureLog();
    const ran: unknown[] = [];
    const mux = new ServeMux();
    mux.handle('send_receipt', async (payload) => {
      ran.push(payload);
    });
    await bed.startServer(mux, { logger: log.logger, queues: { critical: 1 } });

    let id: string | undefined;
    explainJob(bed.client.queue('critical'), () => id);
    explainLog('the worker logged', log.lines, () => id);

    ({ id } = await bed.client.enqueueIn('send_receipt', { order_id: 99 }, HOUR_MS, { queue: 'critical' }));
    // An idle worker takes a due job within milliseconds; this one must stay put.
    await sleep(500);
    expect(ran, 'a job due in an hour should not run now').toEqual([]);

    // Instead of waiting an hour, tell BullMQ the hour has passed.
    const job = await bed.client.queue('critical').getJob(id);
    await job!.promote();
    await waitUntil('the worker to run the promoted job', () => ran.length > 0, 5_000);
    expect(ran).toEqual([{ order_id: 99 }]);
  });

  it('with a delay of 0, the job is due now (TODO 1)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);

    ({ id } = await bed.client.enqueueIn('update_inventory', { order_id: 3 }, 0));

    expect(await bed.client.queue('default').getJobState(id)).toBe('waiting');
  });

  it.each([
    ['a negative delay', -1_000],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses %s with a RangeError, and enqueues nothing (TODO 3)', async (_what, delay) => {
    const count = () => bed.client.queue('default').getJobCountByTypes('waiting', 'delayed');
    const before = await count();
    explain('the default queue', async () => `${await count()} jobs waiting or delayed, ${before} before the call`);

    const error = await bed.client.enqueueIn('send_receipt', { order_id: 1 }, delay).then(
      (job) => `no error: it enqueued job ${job.id}`,
      (err: unknown) => err,
    );
    expect(error, `enqueueIn(…, ${delay}) should refuse the delay with a RangeError`).toBeInstanceOf(RangeError);
    expect((error as Error).message, 'the message should name the delay it got').toContain(String(delay));
    expect(await count(), 'nothing should reach Redis').toBe(before);
  });
});
