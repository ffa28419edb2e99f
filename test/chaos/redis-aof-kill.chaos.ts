// Scenario 4: Redis itself is killed with SIGKILL. With AOF on (appendfsync
// everysec), every job the API acknowledged with 202 is in Redis again after
// the restart. A process crash loses nothing the kernel already has; the
// fsync window only matters when the whole host goes down (see docs/reliability.md).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanUpChaos, freshApp, startApi, type AppSetup, type RunningApi } from '../support/chaos/app-processes.ts';
import { missingFrom } from '../support/chaos/counting.ts';
import { postJson } from '../support/chaos/http.ts';
import { inParallel } from '../support/chaos/in-parallel.ts';
import { startKillableRedis, type KillableRedis } from '../support/chaos/killable-redis.ts';
import { printResult, seconds } from '../support/chaos/result-line.ts';
import { waitFor } from '../support/chaos/wait-for.ts';

const JOBS = 300;
/** appendfsync everysec fsyncs the AOF once a second; the kill comes after one full window. */
const FSYNC_WINDOW_MS = 1_000;

let redis: KillableRedis;
let app: AppSetup;
let api: RunningApi;
beforeAll(async () => {
  redis = await startKillableRedis();
  app = freshApp('redis-aof-kill', redis.url);
  api = await startApi(app); // no worker: the jobs stay waiting, so each one can be looked up after the restart
});
afterAll(cleanUpChaos);

/** The AOF's state from INFO persistence: nothing buffered and no fsync pending means Redis has handed it all to the disk. */
async function aofSettled(): Promise<boolean> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('persistence');
    const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN);
    return field('aof_enabled') === 1 && field('aof_buffer_length') === 0 && field('aof_pending_bio_fsync') === 0;
  } finally {
    client.disconnect();
  }
}

it(`Redis killed with SIGKILL more than ${seconds(FSYNC_WINDOW_MS)} after ${JOBS} jobs were acknowledged: all ${JOBS} are there after the restart`, async () => {
  const answers = await inParallel(JOBS, 10, () => postJson(api.baseUrl, '/api/dev/send-birthday/1'));
  expect(answers.filter((a) => a.status !== 202), 'enqueues refused').toEqual([]);
  const lastAckAt = Date.now();
  const ids = answers.map((a) => String(a.body.job_id));
  expect(new Set(ids).size).toBe(JOBS);

  await waitFor(
    `one fsync window to pass and the AOF to settle`,
    async () => Date.now() - lastAckAt > FSYNC_WINDOW_MS && (await aofSettled()),
    () => 'INFO persistence still shows buffered or pending AOF writes',
    15_000,
  );
  await redis.kill();
  const killedAt = Date.now();
  await redis.start();
  const redisBackAt = Date.now();

  const queue = new Queue('default', { connection: { url: redis.url }, prefix: app.prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed', 'prioritized'], 0, -1);
    const birthdays = jobs.filter((job) => job.name === 'send_birthday_email');
    const found = new Set(birthdays.map((job) => job.id!));
    const lost = missingFrom(ids, found);
    expect(lost, 'acknowledged jobs missing after the restart').toEqual([]);
    // More jobs than 202s would mean a request enqueued twice.
    const extra = birthdays.length - JOBS;
    expect(extra, 'jobs that no 202 accounts for').toBe(0);

    // The API's own connection finds Redis again by itself: enqueues answer 202 again.
    let lastStatus = 0;
    await waitFor(
      'the API to enqueue again',
      async () => (lastStatus = (await postJson(api.baseUrl, '/api/dev/send-birthday/2')).status) === 202,
      () => ({ lastStatus }),
      30_000,
    );
    const apiBackAt = Date.now();

    printResult({
      fault: `Redis kill -9 (AOF, appendfsync everysec), ${seconds(FSYNC_WINDOW_MS)}+ after the last 202, restart`,
      sent: JOBS,
      completed: `${found.size} still queued after the restart (no worker)`,
      lost: lost.length,
      duplicated: extra,
      recovery: `Redis back ${seconds(redisBackAt - killedAt)}, API enqueues again ${seconds(apiBackAt - killedAt)} after the kill`,
    });
  } finally {
    await queue.close();
  }
});
