// Scenario: Redis is gone for OUTAGE_MS, long enough for a growing reconnect
// back-off to reach its ceiling. Once it is back, the API, the worker and the
// scheduler must each be at work again within seconds, not after a back-off
// that grew during the outage.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RECONNECT_MAX_MS } from '../../src/jobs/connection.ts';
import { spawnScript, type ChildScript } from '../support/child-script.ts';
import { cleanUpChaos, freshApp, startApi, startWorker, type AppSetup, type RunningApi } from '../support/chaos/app-processes.ts';
import { startKillableRedis, type KillableRedis } from '../support/chaos/killable-redis.ts';
import { printResult, seconds } from '../support/chaos/result-line.ts';
import { waitFor } from '../support/chaos/wait-for.ts';

const OUTAGE_MS = 31_000;
/** "Back within about 2 s": one reconnect delay, a fetch's pause after an error, and slack for a loaded machine. */
const BACK_WITHIN_MS = 6_000;

let redis: KillableRedis;
let app: AppSetup;
let api: RunningApi;
let worker: ChildScript;
beforeAll(async () => {
  redis = await startKillableRedis();
  app = freshApp('long-outage', redis.url);
  [api, worker] = await Promise.all([startApi(app), startWorker(app)]);
});
afterAll(cleanUpChaos);

async function sendBirthday(): Promise<number> {
  try {
    const res = await fetch(`${api.baseUrl}/api/dev/send-birthday/1`, { method: 'POST', signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

it(`after a ${seconds(OUTAGE_MS)} Redis outage, the API, the worker and the scheduler are back within ${seconds(BACK_WITHIN_MS)}`, async () => {
  expect(await sendBirthday(), 'the API enqueues before the outage').toBe(202);
  await redis.kill();
  // A scheduler that starts during the outage waits for Redis from its first try.
  const scheduler = spawnScript('src/cmd/scheduler.ts', app.env, 'scheduler');
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  expect(await sendBirthday(), 'the API answers 503 while Redis is down').toBe(503);
  expect(scheduler.output()).not.toMatch(/cron schedules registered/);

  await redis.start();
  const backAt = Date.now();
  // A job put straight into Redis: only the worker's own reconnect decides when it runs.
  const queue = new Queue('default', { connection: { url: redis.url }, prefix: app.prefix });
  try {
    const job = await queue.add('send_birthday_email', { user_id: 2 });
    const since = () => Date.now() - backAt;
    let apiBack: number | undefined;
    let workerBack: number | undefined;
    let schedulerBack: number | undefined;
    await waitFor(
      'the API, the worker and the scheduler to be back at work',
      async () => {
        if (apiBack === undefined && (await sendBirthday()) === 202) apiBack = since();
        if (workerBack === undefined && (await queue.getJobState(job.id!)) === 'completed') workerBack = since();
        if (schedulerBack === undefined && /cron schedules registered/.test(scheduler.output())) schedulerBack = since();
        return apiBack !== undefined && workerBack !== undefined && schedulerBack !== undefined;
      },
      () => ({ apiBack, workerBack, schedulerBack, worker: worker.output().slice(-1_500), scheduler: scheduler.output().slice(-1_500) }),
      60_000,
    );
    printResult({
      fault: `Redis down ${seconds(OUTAGE_MS)}, restarted (reconnect delay capped at ${RECONNECT_MAX_MS} ms)`,
      sent: 1,
      completed: 'the job put in at the restart',
      lost: 0,
      duplicated: 0,
      recovery: `API enqueues ${seconds(apiBack!)}, worker runs a job ${seconds(workerBack!)}, scheduler registers ${seconds(schedulerBack!)} after the restart`,
    });
    expect(apiBack!, 'the API enqueues again').toBeLessThan(BACK_WITHIN_MS);
    expect(workerBack!, 'the worker runs a new job').toBeLessThan(BACK_WITHIN_MS);
    expect(schedulerBack!, 'the scheduler registers its schedules').toBeLessThan(BACK_WITHIN_MS);
  } finally {
    await queue.close();
  }
});
