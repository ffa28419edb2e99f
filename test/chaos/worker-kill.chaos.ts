// Scenario 2: a worker is killed with SIGKILL in the middle of a burst; a new
// worker finishes every job. Delivery is at least once, so a job whose handler
// finished just before the kill, but was not yet recorded as completed, runs
// again: duplicates are counted and printed, not forbidden. A lost job fails the test.
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { JobsClient } from '../../src/jobs/client.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { cleanUpChaos, handlerRuns, pidOf, slowWorker } from '../support/chaos/app-processes.ts';
import { extraRuns, jobLines, missingFrom, tally } from '../support/chaos/counting.ts';
import { inParallel } from '../support/chaos/in-parallel.ts';
import { printResult, seconds } from '../support/chaos/result-line.ts';
import { waitFor } from '../support/chaos/wait-for.ts';

const JOBS = 300;
const JOB_MS = 200; // 10 at once: 50 jobs a second, so the burst lasts about 6 s
const KILL_AFTER = 100;

const prefix = uniquePrefix('chaos-worker-kill');
const client = new JobsClient({ url: services().redisUrl }, { prefix });
const redis = new Redis(services().redisUrl);
afterAll(async () => {
  await cleanUpChaos();
  await client.close();
  redis.disconnect();
});

it(`a worker killed with SIGKILL after ${KILL_AFTER} of ${JOBS} jobs: a new worker completes every job`, async () => {
  const doomed = slowWorker(prefix, JOB_MS, 'doomed-worker');
  await doomed.waitForOutput(/worker started/, 30_000);
  const ids = await inParallel(JOBS, 20, async (i) => (await client.enqueue('resize_image', { upload: `burst-${i}.png`, width: 64 })).id);
  let finishedRuns = 0;
  await waitFor(
    `${KILL_AFTER} handler runs`,
    async () => (finishedRuns = await redis.llen(`${prefix}:done`)) >= KILL_AFTER,
    () => ({ finishedRuns }),
    60_000,
  );

  doomed.kill('SIGKILL');
  const killedAt = Date.now();
  await doomed.exited;
  const queue = client.queue('default');
  const atKill = await queue.getJobCounts('completed');
  // Jobs the dead worker held: they come back only through the stalled check, once their locks expire.
  const stranded = new Set((await queue.getJobs(['active'], 0, -1)).map((job) => job.id!));
  expect(stranded.size, 'jobs running at the kill').toBeGreaterThan(0);
  const doomedPid = pidOf(doomed);

  const rescuer = slowWorker(prefix, JOB_MS, 'rescuer-worker');
  let completedCount = 0;
  await waitFor(
    `all ${JOBS} jobs completed`,
    async () => (completedCount = (await queue.getJobCounts('completed')).completed!) >= JOBS,
    () => ({ completed: completedCount, atKill }),
    90_000,
  );
  const allDoneAt = Date.now();
  // The log is read once the rescuer has exited: it writes its lines in batches, up to 100 ms
  // after the event, and the stranded jobs are the last to finish. Exiting writes them all.
  rescuer.kill('SIGTERM');
  expect(await rescuer.exited).toEqual({ code: 0, signal: null });
  const rescuedLines = jobLines(rescuer, /^job done/);
  const firstRescuedAt = Math.min(...rescuedLines.map((line) => line.time));
  const strandedBackAt = Math.max(...rescuedLines.filter((line) => stranded.has(line.job)).map((line) => line.time));

  const completedIds = new Set((await queue.getJobs(['completed'], 0, -1)).map((job) => job.id!));
  const runs = await handlerRuns(redis, prefix);
  const runsByJob = tally(runs.map((run) => run.jobId));
  const lost = missingFrom(ids, completedIds);
  expect(lost, 'jobs never completed').toEqual([]);
  expect(missingFrom(ids, runsByJob), 'jobs whose handler never finished').toEqual([]);
  expect(runs.filter((run) => run.pid !== doomedPid).length, 'the new worker did the rest').toBeGreaterThan(0);
  // A job whose handler the dead worker had finished may have been recorded by a command still on its
  // way to Redis when the process died: it counts as done, not stranded. Every other one was rescued.
  const finishedByDoomed = new Set(runs.filter((run) => run.pid === doomedPid).map((run) => run.jobId));
  const strandedUnfinished = [...stranded].filter((id) => !finishedByDoomed.has(id));
  expect(missingFrom(strandedUnfinished, new Set(rescuedLines.map((line) => line.job))), 'stranded jobs the new worker did not run').toEqual([]);
  expect(await queue.getJobCounts('failed', 'active', 'waiting', 'delayed')).toEqual({ failed: 0, active: 0, waiting: 0, delayed: 0 });

  printResult({
    fault: `worker kill -9 after ${atKill.completed} of ${JOBS} jobs (${stranded.size} running), new worker started`,
    sent: JOBS,
    completed: `${completedIds.size}`,
    lost: lost.length,
    duplicated: extraRuns(runsByJob),
    recovery: `first job done on the new worker ${seconds(firstRescuedAt - killedAt)}, the ${stranded.size} stranded ${seconds(strandedBackAt - killedAt)}, all ${seconds(allDoneAt - killedAt)} after the kill`,
  });
});
