// Exercise 01: JobsClient.enqueue puts a task and its payload on a queue.
import { afterAll, describe, expect, it } from 'vitest';
import { TODO_NOT_DONE } from '../../workshop/shared/verdict.ts';
import { InvalidPayloadError } from '../../src/jobs/client.ts';
import { DEFAULT_MAX_RETRY } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { explain, explainJob, explainLog } from '../support/course/evidence.ts';
import { captureLog } from '../support/course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('ex01');
afterAll(() => bed.cleanup());

/** refusedBecause says why a worker refused a job, and where that comes from in add(). */
function refusedBecause(reason = '(no reason given)'): string {
  const where = /^bad payload/.test(reason)
    ? "The worker checks a job's data against its task's schema before the handler runs: the job's data should be the payload."
    : /^no handler/.test(reason)
      ? "The worker finds the handler by the job's name: it should be the task's name."
      : '';
  return `the worker refused the job: it is dead at once and never ran, with the reason "${reason}". ${where}`.trim();
}

describe('JobsClient.enqueue', () => {
  it('puts the task on the default queue, with its payload, ready to run (TODO 2)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);

    const enqueued = await bed.client.enqueue('send_welcome', { to: 'ada@example.test', name: 'Ada' });
    id = enqueued.id;

    expect(enqueued.queue, 'enqueue should say which queue the job went to').toBe('default');
    const job = await bed.client.queue('default').getJob(enqueued.id);
    expect(job, `no job with the id ${enqueued.id} in the default queue`).toBeDefined();
    expect(job!.name, "the job's name should be the task's name").toBe('send_welcome');
    expect(job!.data, "the job's data should be the payload").toEqual({ to: 'ada@example.test', name: 'Ada' });
    expect(await job!.getState(), 'a job enqueued now should be waiting for a worker').toBe('waiting');
  });

  it('puts the task on the queue the caller names (TODO 2)', async () => {
    let id: string | undefined;
    explainJob(bed.client.queue('critical'), () => id);

    const enqueued = await bed.client.enqueue('send_receipt', { order_id: 7 }, { queue: 'critical' });
    id = enqueued.id;

    expect(enqueued.queue).toBe('critical');
    expect(await bed.client.queue('critical').getJobState(enqueued.id), 'the job should wait in the critical queue').toBe('waiting');
  });

  it('gives the job the retry policy: 25 retries after the first run, with backoff (TODO 2)', async () => {
    const { id } = await bed.client.enqueue('send_receipt', { order_id: 8 });
    const job = await bed.client.queue('default').getJob(id);
    expect(job!.opts.attempts, "the job's attempts should come from this.jobOptions(opts): 1 run + 25 retries").toBe(DEFAULT_MAX_RETRY + 1);
    expect(job!.opts.backoff).toMatchObject({ type: 'exponential-jitter' });
  });

  it('is picked up by a worker, which gets the same payload (TODO 2)', async () => {
    const log = captureLog();
    const received: unknown[] = [];
    const mux = new ServeMux();
    mux.handle('ask_for_review', async (payload) => {
      received.push(payload);
    });
    await bed.startServer(mux, { logger: log.logger, queues: { low: 1 } });

    let id: string | undefined;
    explainJob(bed.client.queue('low'), () => id);
    explainLog('the worker logged', log.lines, () => id);

    ({ id } = await bed.client.enqueue('ask_for_review', { order_id: 42 }, { queue: 'low' }));
    // The worker runs the job, or refuses it at once: then the job is dead (BullMQ's failed), with the reason.
    const queue = bed.client.queue('low');
    const outcome = await waitUntil('the worker to run the job', async () => (received.length > 0 ? 'ran' : (await queue.getJobState(id!)) === 'failed' && 'refused'), 5_000);
    if (outcome === 'refused') throw new Error(refusedBecause((await queue.getJob(id))?.failedReason));
    expect(received, 'the handler should get the payload that was enqueued').toEqual([{ order_id: 42 }]);
  });

  it('refuses a payload that does not fit its task, with the reason, and enqueues nothing (TODO 1)', async () => {
    const before = await bed.client.queue('default').getJobCountByTypes('waiting');
    explain('the default queue', async () => `${await bed.client.queue('default').getJobCountByTypes('waiting')} waiting jobs, ${before} before the call`);

    const bad = { to: 'not-an-email', name: 'Ada' };
    const error = await bed.client.enqueue('send_welcome', bad).then(
      (job) => `no error: it enqueued job ${job.id}`,
      (err: unknown) => err,
    );

    // Until TODO(2) is done, enqueue throws its TODO: say that, rather than compare it with InvalidPayloadError.
    if (error instanceof Error && TODO_NOT_DONE.test(error.message)) throw error;
    expect(error, 'enqueue should refuse this payload with an InvalidPayloadError').toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message, 'the error should say which field is wrong').toMatch(/to: /);
    expect(await bed.client.queue('default').getJobCountByTypes('waiting'), 'nothing should reach Redis').toBe(before);
  });
});
