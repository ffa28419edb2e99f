// A fetch that fails because Redis is unreachable is logged like every other
// Redis error of the worker: once, then a reminder every 30 s, not once a
// second per queue for as long as the outage lasts.
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { ServeMux } from '../../src/jobs/mux.ts';
import { QueueFetcher } from '../../src/jobs/queue-fetcher.ts';
import { captureLog } from '../support/course/log.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const bed = jobsTestbed('fetch-errors');
// Queues of their own for the second test: the first test's worker still runs, and would take its jobs.
const recordsBed = jobsTestbed('fetch-errors-records');
afterAll(() => Promise.all([bed.cleanup(), recordsBed.cleanup()]));
afterEach(() => {
  vi.restoreAllMocks();
});

it('logs failing fetches through the one rate-limited Redis error log', async () => {
  const capture = captureLog();
  const lines = () => capture.lines().map((line) => JSON.parse(line) as { level: number; msg: string });
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

  // The first fetches fail as they do while Redis is down; then Redis is back.
  const FAILURES = 3;
  let failed = 0;
  const getNextJob = QueueFetcher.prototype.getNextJob;
  vi.spyOn(QueueFetcher.prototype, 'getNextJob').mockImplementation(function (this: QueueFetcher, token, opts) {
    if (opts?.block === false && failed < FAILURES) {
      failed++;
      return Promise.reject(refused());
    }
    return getNextJob.call(this, token, opts);
  });
  const ran: number[] = [];
  const mux = new ServeMux();
  mux.handle('send_receipt', async ({ order_id }) => {
    ran.push(order_id);
  });
  await bed.startServer(mux, { queues: { default: 1 }, logger: capture.logger });
  await waitUntil('every planned fetch to fail', () => failed === FAILURES, 20_000);

  await bed.client.enqueue('send_receipt', { order_id: 7 });
  await waitUntil('the job to run once fetches work again', () => ran.includes(7), 20_000);

  const errors = lines().filter((line) => line.level >= 50);
  expect(errors.map((line) => line.msg)).toEqual([expect.stringMatching(/^Redis cannot be reached.*\(ECONNREFUSED\): is it running\?$/)]);
}, 30_000);

it('logs a job result that Redis could not take through the same log, once for many jobs', async () => {
  const capture = captureLog();
  const lines = () => capture.lines().map((line) => JSON.parse(line) as { level: number; msg: string });
  const JOBS = 4;
  let refusedRecords = 0;
  // Recording each result fails as it does when Redis went away mid-job.
  vi.spyOn(QueueFetcher.prototype, 'processJob').mockImplementation(() => {
    refusedRecords++;
    return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
  });
  await recordsBed.startServer(new ServeMux(), { queues: { default: 1 }, logger: capture.logger });
  for (let id = 1; id <= JOBS; id++) await recordsBed.client.enqueue('send_receipt', { order_id: id });
  await waitUntil('every result record to fail', () => refusedRecords >= JOBS, 20_000);

  const errors = lines().filter((line) => line.level >= 40);
  expect(errors.map((line) => line.msg)).toEqual([expect.stringMatching(/^Redis cannot be reached.*\(ECONNREFUSED\): is it running\?$/)]);
}, 30_000);
