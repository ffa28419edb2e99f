// Scenario 3: SIGTERM to a worker with slow jobs in flight. Jobs shorter than
// SHUTDOWN_TIMEOUT_MS finish before the process exits 0; jobs longer than it
// are abandoned at the timeout and run again on another worker once the
// stalled check finds them. Neither loses a job.
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { JobsClient } from '../../src/jobs/client.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { cleanUpChaos, handlerRuns, pidOf, slowWorker } from '../support/chaos/app-processes.ts';
import { extraRuns, jobIdsLogged, missingFrom, tally } from '../support/chaos/counting.ts';
import { inParallel } from '../support/chaos/in-parallel.ts';
import { printResult, seconds } from '../support/chaos/result-line.ts';
import { waitFor } from '../support/chaos/wait-for.ts';

/** The slow worker runs 10 jobs at once (the JobServer's default concurrency). */
const SLOTS = 10;

const redis = new Redis(services().redisUrl);
const clients: JobsClient[] = [];
afterAll(async () => {
  await cleanUpChaos();
  await Promise.all(clients.map((client) => client.close()));
  redis.disconnect();
});

/** A queue prefix of its own for one case, a client on it, and the slow worker's record of handler runs. */
function testQueues(label: string) {
  const prefix = uniquePrefix(`chaos-${label}`);
  const client = new JobsClient({ url: services().redisUrl }, { prefix });
  clients.push(client);
  const enqueue = (count: number) => inParallel(count, 20, async (i) => (await client.enqueue('resize_image', { upload: `${label}-${i}.png`, width: 64 })).id);
  const runs = () => handlerRuns(redis, prefix);
  return { prefix, queue: client.queue('default'), enqueue, runs };
}

it('SIGTERM with jobs shorter than the shutdown timeout: they finish, the rest stay queued, and the worker exits 0', async () => {
  const JOB_MS = 3_000;
  const TIMEOUT_MS = 20_000;
  const EXTRA = 5;
  const { prefix, queue, enqueue, runs } = testQueues('drain');
  const worker = slowWorker(prefix, JOB_MS, 'draining-worker', { SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS) });
  await worker.waitForOutput(/worker started/, 30_000);
  const ids = await enqueue(SLOTS + EXTRA);
  await waitFor(`${SLOTS} jobs started`, () => jobIdsLogged(worker, /^job started$/).length >= SLOTS, () => worker.output().slice(-1_000), 30_000);

  const signalledAt = Date.now();
  worker.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  const drainMs = Date.now() - signalledAt;

  const started = jobIdsLogged(worker, /^job started$/);
  const finished = await runs();
  const completed = new Set((await queue.getJobs(['completed'], 0, -1)).map((job) => job.id!));
  const waiting = new Set((await queue.getJobs(['waiting'], 0, -1)).map((job) => job.id!));
  expect(started.length, 'jobs started, none after SIGTERM').toBe(SLOTS);
  expect(finished.map((run) => run.jobId).sort(), 'each started job ran to the end here').toEqual([...started].sort());
  expect(finished.every((run) => run.pid === pidOf(worker))).toBe(true);
  expect([...completed].sort()).toEqual([...started].sort());
  expect(waiting.size, 'the jobs not started yet wait for the next worker').toBe(EXTRA);
  const lost = missingFrom(ids, { has: (id: string) => completed.has(id) || waiting.has(id) });
  expect(lost).toEqual([]);
  expect(drainMs).toBeLessThan(TIMEOUT_MS);

  printResult({
    fault: `worker SIGTERM, ${SLOTS} jobs of ${seconds(JOB_MS)} running, shutdown timeout ${seconds(TIMEOUT_MS)}`,
    sent: ids.length,
    completed: `${completed.size} finished before exit, ${waiting.size} left waiting`,
    lost: lost.length,
    duplicated: extraRuns(tally(finished.map((run) => run.jobId))),
    recovery: `exit 0 ${seconds(drainMs)} after SIGTERM`,
  });
});

it('SIGTERM with jobs longer than the shutdown timeout: the worker exits at the timeout, and another worker runs them', async () => {
  const JOB_MS = 60_000;
  const TIMEOUT_MS = 1_500;
  const JOBS = 5;
  const { prefix, queue, enqueue, runs } = testQueues('timeout');
  const worker = slowWorker(prefix, JOB_MS, 'timeout-worker', { SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS) });
  await worker.waitForOutput(/worker started/, 30_000);
  const ids = await enqueue(JOBS);
  await waitFor(`${JOBS} jobs started`, () => jobIdsLogged(worker, /^job started$/).length >= JOBS, () => worker.output().slice(-1_000), 30_000);

  const signalledAt = Date.now();
  worker.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  const exitedAt = Date.now();
  expect(exitedAt - signalledAt).toBeGreaterThanOrEqual(TIMEOUT_MS);
  expect(exitedAt - signalledAt).toBeLessThan(TIMEOUT_MS + 10_000);
  expect(worker.output()).toMatch(/shutdown timeout: leaving running jobs to the stalled check/);
  expect(await runs(), 'no job finished on the stopped worker').toEqual([]);
  expect((await queue.getJobCounts('active')).active, 'the abandoned jobs are still active, locked by nobody').toBe(JOBS);

  const rescuer = slowWorker(prefix, 200, 'rescuer-worker');
  let completedCount = 0;
  await waitFor(
    `the ${JOBS} abandoned jobs to complete on another worker`,
    async () => (completedCount = (await queue.getJobCounts('completed')).completed!) >= JOBS,
    () => ({ completed: completedCount }),
    60_000,
  );
  const rerunAt = Date.now();

  const finished = await runs();
  const completed = new Set((await queue.getJobs(['completed'], 0, -1)).map((job) => job.id!));
  const lost = missingFrom(ids, completed);
  expect(lost).toEqual([]);
  expect(finished.every((run) => run.pid === pidOf(rescuer)), 'every job finished on the rescuer').toBe(true);
  expect(await queue.getJobCounts('failed', 'active', 'waiting')).toEqual({ failed: 0, active: 0, waiting: 0 });

  printResult({
    fault: `worker SIGTERM, ${JOBS} jobs of ${seconds(JOB_MS)} running, shutdown timeout ${seconds(TIMEOUT_MS)}`,
    sent: JOBS,
    completed: `${completed.size}, run again on a second worker`,
    lost: lost.length,
    duplicated: extraRuns(tally(finished.map((run) => run.jobId))),
    recovery: `exit 0 ${seconds(exitedAt - signalledAt)} after SIGTERM; all run again ${seconds(rerunAt - exitedAt)} after the exit`,
  });
});
