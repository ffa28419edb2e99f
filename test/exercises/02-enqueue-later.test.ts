// Exercise 02: enqueueIn adds a task that becomes due after a delay, at the right time.
import type { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { TODO_NOT_DONE } from '../../workshop/shared/verdict.ts';
import { dueAt } from '../../src/jobs/due.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { explain, explainJob, explainLog } from '../support/course/evidence.ts';
import { captureLog } from '../support/course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('ex02');
afterAll(() => bed.cleanup());

const HOUR_MS = 60 * 60 * 1_000;
const DAY_MS = 24 * HOUR_MS;
/** How far off a due time may be: the time between reading the clock here and Redis storing the job. */
const SLACK_MS = 5_000;

/**
 * refusalProblem says what went wrong when enqueueIn(…, delay) did not refuse
 * a delay with a RangeError, or nothing when it did.
 */
function refusalProblem(delay: number, outcome: { job: { id: string } } | { error: unknown }): string | undefined {
  const call = `enqueueIn(…, ${delay})`;
  if ('job' in outcome) {
    const why = delay < 0 || Number.isNaN(delay) ? ', due at once: add() hands BullMQ a delay only when it is above 0' : '';
    return `${call} enqueued job ${outcome.job.id}${why}. It should refuse the delay with a RangeError, and enqueue nothing`;
  }
  const error = outcome.error as Error;
  if (error instanceof RangeError) return undefined;
  if (TODO_NOT_DONE.test(error.message)) return error.message;
  // ioredis's ReplyError: the call reached Redis, and BullMQ's script there refused the number.
  if (error.name === 'ReplyError') {
    const what = Number.isNaN(delay) ? 'NaN is not a number' : `${delay} is not a number of ms that can be waited`;
    return `${call} let the delay through to BullMQ, which refused it: ${what}. enqueueIn should refuse it itself, with a RangeError that names the delay, before anything reaches Redis. (BullMQ's error: ${error.message.replace(/ script: .*$/, '')})`;
  }
  return `${call} threw ${error.name}: "${error.message}". It should throw a RangeError that names the delay`;
}

const iso = (ms: number | undefined) => (ms === undefined ? 'nothing: the job is not in the delayed set' : new Date(ms).toISOString());

describe('JobsClient.enqueueIn', () => {
  it('adds a delayed job that is due 24 hours from now, as "send a reminder in 24 h" needs (TODO 1)', async () => {
    const queue = bed.client.queue('default');
    let id: string | undefined;
    explainJob(queue, () => id);
    const before = Date.now();

    ({ id } = await bed.client.enqueueIn('send_welcome', { to: 'ada@example.test', name: 'Ada' }, DAY_MS));

    expect(await queue.getJobState(id), 'a job with a delay should wait in the delayed set, not in the wait list').toBe('delayed');
    const due = (await dueAt(queue, id))?.getTime();
    explain('the due time', () => `expected about ${iso(before + DAY_MS)}, got ${iso(due)}`);
    expect(due, 'the job should be due 24 hours after it was enqueued').toBeGreaterThanOrEqual(before + DAY_MS);
    expect(due).toBeLessThan(before + DAY_MS + SLACK_MS);
  });

  it('keeps a review request for 7 days, due on the right day (TODO 1)', async () => {
    const queue = bed.client.queue('low');
    let id: string | undefined;
    explainJob(queue, () => id);
    const before = Date.now();

    ({ id } = await bed.client.enqueueIn('ask_for_review', { order_id: 7 }, 7 * DAY_MS, { queue: 'low' }));

    expect(await queue.getJobState(id), 'a job with a delay should wait in the delayed set').toBe('delayed');
    const due = (await dueAt(queue, id))?.getTime();
    explain('the due time', () => `expected about ${iso(before + 7 * DAY_MS)}, got ${iso(due)}`);
    expect(due, 'the job should be due 7 days after it was enqueued').toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(due).toBeLessThan(before + 7 * DAY_MS + SLACK_MS);
  });

  it('is not run by a worker before it is due, and runs once it is (TODO 1)', async () => {
    const log = captureLog();
    const ran: number[] = [];
    const mux = new ServeMux();
    mux.handle('send_receipt', async ({ order_id }) => {
      ran.push(order_id);
    });
    // One slot: the worker takes the jobs one by one, in the order they became due.
    await bed.startServer(mux, { logger: log.logger, queues: { critical: 1 }, concurrency: 1 });
    const queue = bed.client.queue('critical');

    let id: string | undefined;
    explainJob(queue, () => id);
    explainLog('the worker logged', log.lines, () => id);

    ({ id } = await bed.client.enqueueIn('send_receipt', { order_id: 99 }, HOUR_MS, { queue: 'critical' }));
    // A job due now, enqueued after it. Once the worker has run this one, it
    // has passed the delayed job by: an hour's delay kept it out of the way.
    await bed.client.enqueue('send_receipt', { order_id: 100 }, { queue: 'critical' });
    await waitUntil('the worker to run the job due now', () => ran.includes(100), 5_000);
    expect(ran, 'a job due in an hour should not run now').not.toContain(99);

    // Instead of waiting an hour, tell BullMQ the hour has passed.
    await (await queue.getJob(id))!.promote();
    await waitUntil('the worker to run the promoted job', () => ran.includes(99), 5_000);
    expect(ran).toEqual([100, 99]);
  });

  it('with a delay of 0, the job is due now (TODO 1)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);

    ({ id } = await bed.client.enqueueIn('update_inventory', { order_id: 3 }, 0));

    expect(await bed.client.queue('default').getJobState(id), 'a job with no delay should be waiting for a worker').toBe('waiting');
  });

  it.each([
    ['a negative delay', -1_000],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses %s with a RangeError, and enqueues nothing (TODO 2)', async (_what, delay) => {
    const count = () => bed.client.queue('default').getJobCountByTypes('waiting', 'delayed');
    const before = await count();
    explain('the default queue', async () => `${await count()} jobs waiting or delayed, ${before} before the call`);

    const outcome = await bed.client.enqueueIn('send_receipt', { order_id: 1 }, delay).then(
      (job) => ({ job }),
      (error: unknown) => ({ error }),
    );

    const problem = refusalProblem(delay, outcome);
    if (problem) throw new Error(problem);
    expect((outcome as { error: Error }).error.message, 'the message should name the delay it got').toContain(String(delay));
    expect(await count(), 'nothing should reach Redis').toBe(before);
  });
});
