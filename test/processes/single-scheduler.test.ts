import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/cron.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { services } from '../support/services/services.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { testRedisEnv } from '../support/redis.ts';
import { sleep, waitUntil } from '../support/wait.ts';

afterAll(stopAll);

describe('single scheduler', () => {
  const bed = jobsTestbed('scheduler');
  afterAll(() => bed.cleanup());

  it('two scheduler processes over several ticks enqueue each tick once', async () => {
    const env = { ...testRedisEnv(), QUEUE_PREFIX: bed.prefix };
    const first = spawnScript('test/support/fixtures/fast-scheduler.ts', env, 'scheduler-1');
    const second = spawnScript('test/support/fixtures/fast-scheduler.ts', env, 'scheduler-2');
    await Promise.all([first.waitForOutput(/registered/, 15_000), second.waitForOutput(/registered/, 15_000)]);

    const ticks: number[] = [];
    const mux = new ServeMux();
    mux.handle('cleanup_uploads', async (_payload, ctx) => {
      // A tick's job id ends with the tick's time in ms: repeat:<scheduler id>:<time>.
      ticks.push(Number(ctx.jobId.split(':').at(-1)));
    });
    await bed.startServer(mux, { queues: { default: 1 } });
    await waitUntil('5 ticks', () => ticks.length >= 5, 15_000);
    await sleep(1_500); // room for a second copy of the last tick, if there were one

    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.every((t) => t % 1_000 === 0)).toBe(true);
    const schedulers = await new Scheduler(bed.client).list();
    expect(schedulers.map((s) => s.id)).toEqual(['cleanup_uploads']);
  });
});

describe('Scheduler.register, again', () => {
  const bed = jobsTestbed('register-again');
  afterAll(() => bed.cleanup());

  it('leaves a tick that is due, and that no worker has taken yet, in its queue', async () => {
    const scheduler = new Scheduler(bed.client);
    await scheduler.register('* * * * * *', 'cleanup_uploads', {});
    const [entry] = await scheduler.list();
    const due = entry!.next!.getTime();
    // No worker runs: the tick falls due and waits for one, as during a deploy.
    await sleep(Math.max(0, due - Date.now()) + 300);

    // The scheduler process registers its table again (it does every minute).
    await scheduler.register('* * * * * *', 'cleanup_uploads', {});

    const tick = await bed.client.queue('default').getJob(`repeat:cleanup_uploads:${due}`);
    expect(tick, `the tick due at ${new Date(due).toISOString()} should still wait for a worker`).toBeDefined();
  });

  it('changes the entry when the pattern changes', async () => {
    const scheduler = new Scheduler(bed.client);
    await scheduler.register('0 * * * *', 'nightly_digest', {});
    await scheduler.register('0 3 * * *', 'nightly_digest', {});
    const entries = (await scheduler.list()).filter((e) => e.task === 'nightly_digest');
    expect(entries.map((e) => e.pattern)).toEqual(['0 3 * * *']);
  });
});

describe('RUN_SCHEDULER', () => {
  const bed = jobsTestbed('run-scheduler');
  afterAll(() => bed.cleanup());

  const workerEnv = (runScheduler: boolean) => ({
    ...testRedisEnv(),
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: bed.prefix,
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-db-')), 'app.db'),
    RUN_SCHEDULER: String(runScheduler),
  });

  it('registers the cron table only where it is true, and twice is the same as once', async () => {
    const plain = spawnScript('src/cmd/worker.ts', workerEnv(false), 'worker-plain');
    await plain.waitForOutput(/worker started/, 20_000);
    await sleep(300);
    const scheduler = new Scheduler(bed.client);
    expect(await scheduler.list()).toEqual([]);

    const one = spawnScript('src/cmd/worker.ts', workerEnv(true), 'worker-cron-1');
    const two = spawnScript('src/cmd/worker.ts', workerEnv(true), 'worker-cron-2');
    await Promise.all([one.waitForOutput(/cron schedules registered/, 20_000), two.waitForOutput(/cron schedules registered/, 20_000)]);

    const entries = await scheduler.list();
    expect(entries.map((e) => [e.id, e.pattern]).sort()).toEqual([
      ['cleanup_uploads', '0 * * * *'],
      ['nightly_digest', '0 2 * * *'],
    ]);
    // Each entry has exactly one next run waiting, not one per process.
    const delayed = await bed.client.queue('default').getDelayed();
    expect(delayed.map((job) => job.name).sort()).toEqual(['cleanup_uploads', 'nightly_digest']);
  });
});
