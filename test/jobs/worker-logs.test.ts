import { afterAll, expect, it } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { captureLog } from '../support/course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('worker-logs');
const quietBed = jobsTestbed('worker-logs-child');
afterAll(() => Promise.all([bed.cleanup(), quietBed.cleanup()]));

/** A logger that keeps each line, so the test can read what a learner would see. */
function capturingLogger() {
  const capture = captureLog();
  return { logger: capture.logger, lines: () => capture.lines().map((line) => JSON.parse(line) as { msg: string; job?: string }) };
}

it('logs start, done with duration, failed with attempt n of N and the next retry, and dead', async () => {
  const { logger, lines } = capturingLogger();
  const mux = new ServeMux();
  mux.handle('send_receipt', async ({ order_id }) => {
    if (order_id === 13) throw new Error('SMTP is down');
  });
  await bed.startServer(mux, { logger });

  const ok = await bed.client.enqueue('send_receipt', { order_id: 1 });
  const doomed = await bed.client.enqueue('send_receipt', { order_id: 13 }, { maxRetry: 1 });
  await waitUntil('the doomed job to die', () => lines().some((l) => l.job === doomed.id && l.msg.startsWith('job dead')));

  const messages = (id: string) => lines().filter((l) => l.job === id).map((l) => l.msg);
  expect(messages(ok.id)).toEqual(['job started', expect.stringMatching(/^job done in \d+ ms$/)]);
  expect(messages(doomed.id)).toEqual([
    'job started',
    expect.stringMatching(/^job failed \(attempt 1 of 2\), retrying at \d{4}-\d\d-\d\dT[\d:.]+Z$/),
    'job started',
    'job dead after 2 of 2 attempts: SMTP is down',
  ]);

  // The admin page's Retry (bull-board's job.retry) keeps the count and allows one more attempt.
  const job = (await bed.client.queue('default').getJob(doomed.id))!;
  await job.retry('failed');
  await waitUntil('the re-queued job to die again', () => messages(doomed.id).length === 6);
  expect(messages(doomed.id).slice(4)).toEqual(['job started', 'job dead after 3 attempts (2 allowed, then re-queued): SMTP is down']);
});

it("puts the job's id and task on the lines a handler logs, and makes no child logger for a handler that does not log", async () => {
  const { logger, lines } = capturingLogger();
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  const mux = new ServeMux();
  mux.handle('send_receipt', async ({ order_id }, ctx) => {
    if (order_id === 1) ctx.log.info({ order_id }, 'looking the order up');
  });
  await quietBed.startServer(mux, { logger });

  const chatty = await quietBed.client.enqueue('send_receipt', { order_id: 1 });
  const quiet = await quietBed.client.enqueue('send_receipt', { order_id: 2 });
  await waitUntil('both jobs to be done', () => [chatty.id, quiet.id].every((id) => lines().some((l) => l.job === id && l.msg.startsWith('job done'))));

  expect(lines().filter((l) => l.msg === 'looking the order up')).toEqual([
    expect.objectContaining({ job: chatty.id, task: 'send_receipt', order_id: 1 }),
  ]);
  expect(children).toBe(1);
});
