// Exercise 05: the lesson's cron table, registered once however many
// schedulers run, and registered by a worker only where RUN_SCHEDULER=true.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getNextMillis } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { registerCron, Scheduler, type ScheduledTask } from '../../src/jobs/cron.ts';
import { QUEUES, type QueueName } from '../../src/jobs/defaults.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { ROOT, SRC } from '../../workshop/course.ts';
import { explain, explainOutput } from '../course/evidence.ts';
import { currentExercise, startProcess } from '../course/exercise.ts';
import { spawnCommand, stopAll, type ChildScript } from '../harness/process.ts';
import { services, uniquePrefix } from '../harness/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { sleep, waitUntil } from '../support/wait.ts';

/** The lesson's cron table. */
const LESSON = { nightly_digest: '0 2 * * *', cleanup_uploads: '0 * * * *' } as const;

const clients: JobsClient[] = [];
afterAll(async () => {
  await stopAll();
  // Leave nothing behind in the learner's Redis: each run makes hundreds of jobs.
  await Promise.all(
    clients.map(async (client) => {
      await Promise.all(QUEUES.map((queue) => client.queue(queue).obliterate({ force: true })));
      await client.close();
    }),
  );
});

/** clientOn opens a JobsClient on a queue prefix; after the suite its queues are emptied and it is closed. */
function clientOn(prefix: string): JobsClient {
  const client = new JobsClient(redisConnection({ redisUrl: services().redisUrl }), { prefix });
  clients.push(client);
  return client;
}

/** cronTable lists the entries of every queue. */
async function cronTable(client: JobsClient): Promise<(ScheduledTask & { queue: QueueName })[]> {
  const scheduler = new Scheduler(client);
  const lists = await Promise.all(QUEUES.map(async (queue) => (await scheduler.list(queue)).map((entry) => ({ ...entry, queue }))));
  return lists.flat();
}

/** describeTable prints the cron table as Redis holds it, one entry a line. */
async function describeTable(client: JobsClient): Promise<string> {
  const entries = await cronTable(client);
  if (entries.length === 0) return '(empty)';
  return entries.map((e) => `id "${e.id}": ${e.task} "${e.pattern}" on ${e.queue}, next run ${e.next?.toISOString() ?? '-'}`).join('\n');
}

/** runs lists `count` runs of a cron pattern, the first one after `from`, as BullMQ computes them. */
function runs(pattern: string, from: number, count = 3): number[] {
  const times: number[] = [];
  let t = from;
  for (let i = 0; i < count; i++) {
    t = getNextMillis(t, { pattern }) ?? Number.NaN;
    times.push(t);
  }
  return times;
}

/** local prints a time as this machine's clock shows it: "Mon 02:00". Cron patterns run on local time. */
function local(ms: number): string {
  if (Number.isNaN(ms)) return '(never)';
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-GB', { weekday: 'short' });
  return `${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

describe('registerCron', () => {
  it("registers the lesson's two entries: nightly_digest every day at 2:00, cleanup_uploads every hour on the hour (TODO 1)", async () => {
    const client = clientOn(uniquePrefix('ex05-table'));
    explain('the cron table in Redis after registerCron', () => describeTable(client));

    const before = Date.now();
    await registerCron(new Scheduler(client));
    const after = Date.now();

    const entries = await cronTable(client);
    expect(
      entries.map((e) => `${e.task} on ${e.queue}`).sort(),
      'registerCron should register exactly two entries, nightly_digest and cleanup_uploads, on the default queue',
    ).toEqual(['cleanup_uploads on default', 'nightly_digest on default']);

    for (const [task, lessonPattern] of Object.entries(LESSON)) {
      const entry = entries.find((e) => e.task === task)!;
      // Compare the next three runs of your pattern with the lesson's, from the moment of registering.
      const yours = runs(entry.pattern, before);
      const lesson = [runs(lessonPattern, before), runs(lessonPattern, after)];
      const when = task === 'nightly_digest' ? 'every day at 2:00' : 'every hour, on the hour';
      expect(
        lesson.some((expected) => expected.join() === yours.join()),
        `${task} should run ${when}. Its pattern "${entry.pattern}" next runs at ${yours.map(local).join(', ')}; the lesson's "${lessonPattern}" at ${lesson[0]!.map(local).join(', ')}`,
      ).toBe(true);
      expect(
        lesson.some((expected) => expected[0] === entry.next?.getTime()),
        `the entry's next run in Redis should be ${local(lesson[0]![0]!)}; it is ${entry.next ? local(entry.next.getTime()) : 'not set'}`,
      ).toBe(true);
    }
  });
});

/**
 * startEverySecondScheduler runs a scheduler process of the test's own: a
 * node process that loads YOUR cron.ts (laid over src/ as workshop/run.ts
 * lays it) and registers cleanup_uploads on a pattern that ticks every
 * second. The README's scheduler registers only the lesson's hourly and daily
 * entries, far too slow for a test.
 */
function startEverySecondScheduler(prefix: string, label: string): ChildScript {
  const { dir } = currentExercise();
  const url = (path: string) => JSON.stringify(pathToFileURL(join(SRC, path)).href);
  const script = `
    const { register } = await import('node:module');
    register(${JSON.stringify(pathToFileURL(join(ROOT, 'workshop/overlay/hooks.ts')).href)}, { data: ${JSON.stringify({ dir, src: SRC })} });
    const { JobsClient } = await import(${url('jobs/client.ts')});
    const { redisConnection } = await import(${url('jobs/connection.ts')});
    const { Scheduler } = await import(${url('jobs/cron.ts')});
    const scheduler = new Scheduler(new JobsClient(redisConnection({ redisUrl: process.env.REDIS_URL }), { prefix: process.env.QUEUE_PREFIX }));
    await scheduler.register('* * * * * *', 'cleanup_uploads', {});
    console.log('every-second entry registered by process ' + process.pid);
    setInterval(() => {}, 60_000); // stay up, as a scheduler does
  `;
  return spawnCommand('node --import tsx --input-type=module --eval "$SCHEDULER_SCRIPT"', { REDIS_URL: services().redisUrl, QUEUE_PREFIX: prefix, SCHEDULER_SCRIPT: script }, label);
}

describe('two schedulers', () => {
  const bed = jobsTestbed('ex05-ticks');
  afterAll(() => bed.cleanup());
  clientOn(bed.prefix); // so that the suite's cleanup empties these queues too

  it('each in its own process, registering the same every-second entry: every tick is enqueued once (TODO 2)', async () => {
    const first = startEverySecondScheduler(bed.prefix, 'scheduler A');
    const second = startEverySecondScheduler(bed.prefix, 'scheduler B');
    explainOutput(first, 'scheduler A wrote');
    explainOutput(second, 'scheduler B wrote');
    explain('the cron table in Redis', () => describeTable(bed.client));
    await Promise.all([first.waitForOutput(/registered by process/, 45_000), second.waitForOutput(/registered by process/, 45_000)]);

    // A worker of the test's own runs the ticks. Each tick's job id ends with the tick's time in ms.
    const perTick = new Map<number, number>();
    const mux = new ServeMux();
    mux.handle('cleanup_uploads', async (_payload, ctx) => {
      const tick = Number(ctx.jobId.split(':').at(-1));
      perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    });
    explain('the ticks the worker ran', () =>
      perTick.size === 0 ? '(none)' : [...perTick].map(([tick, count]) => `${local(tick)}: ${count} job${count === 1 ? '' : 's'}`).join('\n'),
    );
    await bed.startServer(mux, { queues: { default: 1 } });

    await waitUntil('5 ticks', () => perTick.size >= 5, 20_000);
    await sleep(1_500); // room for a second copy of the last tick, if there is one
    first.kill('SIGKILL');
    second.kill('SIGKILL');

    const doubled = [...perTick].filter(([, count]) => count > 1);
    expect(
      doubled.length,
      `${doubled.length} of ${perTick.size} ticks were enqueued more than once: each scheduler process keeps an entry of its own in Redis and fires it. Give the entry an id that both processes share`,
    ).toBe(0);
    const table = await cronTable(bed.client);
    expect(table.length, 'two processes registering the same task should leave one entry in Redis').toBe(1);
  });
});

describe('the scheduler process', () => {
  it('run twice: the cron table holds the lesson\'s 2 entries, not 4, each with one next run waiting, and `jobs schedules` lists them (TODO 1, 2)', async () => {
    const prefix = uniquePrefix('ex05-schedulers');
    const client = clientOn(prefix);
    const env = { REDIS_URL: services().redisUrl, QUEUE_PREFIX: prefix };
    const first = startProcess('scheduler', env);
    const second = startProcess('scheduler', env);
    explainOutput(first, 'your first scheduler wrote');
    explainOutput(second, 'your second scheduler wrote');
    explain('the cron table in Redis', () => describeTable(client));
    await Promise.all([first.waitForOutput(/cron schedules registered/, 45_000), second.waitForOutput(/cron schedules registered/, 45_000)]);

    const entries = await cronTable(client);
    expect(
      entries.map((e) => e.task).sort(),
      `after two scheduler processes the cron table should hold the lesson's two entries, once each. It holds ${entries.length}${entries.length === 0 ? ': registerCron registers nothing yet (TODO 1)' : ''}`,
    ).toEqual(['cleanup_uploads', 'nightly_digest']);
    // Each entry has its next run waiting in Redis as a delayed job: one per entry, not one per process.
    const waiting = (await client.queue('default').getDelayed()).map((job) => job.name).sort();
    expect(waiting, 'each entry should have exactly one next run waiting, so that each tick fires once').toEqual(['cleanup_uploads', 'nightly_digest']);

    const schedules = startProcess('jobs', env, ['schedules']);
    explainOutput(schedules, '`jobs 5 schedules` printed');
    await schedules.exited;
    // Its table's columns are two spaces apart: task, pattern, queue, next run.
    const rows = schedules.output().split('\n').filter((line) => /^(nightly_digest|cleanup_uploads)\s/.test(line));
    const listed = rows.map((row) => row.split(/\s{2,}/)).map(([task, , queue]) => `${task} on ${queue}`);
    expect(listed.sort(), '`jobs schedules` should list each entry once').toEqual(['cleanup_uploads on default', 'nightly_digest on default']);
  });
});

describe('RUN_SCHEDULER', () => {
  function workerEnv(prefix: string, runScheduler: string) {
    const dir = mkdtempSync(join(tmpdir(), 'ex05-worker-'));
    return {
      REDIS_URL: services().redisUrl,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_PATH: join(dir, 'shop.db'),
      UPLOADS_DIR: join(dir, 'uploads'),
      RUN_SCHEDULER: runScheduler,
    };
  }

  it('a worker registers the cron table only when started with RUN_SCHEDULER=true, and says so (TODO 3)', async () => {
    const prefix = uniquePrefix('ex05-run-scheduler');
    const client = clientOn(prefix);
    explain('the cron table in Redis', () => describeTable(client));

    const plain = startProcess('worker', workerEnv(prefix, ''));
    explainOutput(plain, 'your worker without RUN_SCHEDULER wrote');
    await plain.waitForOutput(/"msg":"worker started"/, 45_000);
    // Registering would come right after "worker started": give it ample time to show.
    await sleep(1_500);
    expect(await describeTable(client), 'a worker started without RUN_SCHEDULER should register no cron entry').toBe('(empty)');
    expect(
      plain.output().includes('cron schedules registered'),
      'a worker started without RUN_SCHEDULER should not register the cron table, but it logged "cron schedules registered"',
    ).toBe(false);

    const scheduling = startProcess('worker', workerEnv(prefix, 'true'));
    explainOutput(scheduling, 'your worker with RUN_SCHEDULER=true wrote');
    await scheduling.waitForOutput(/"msg":"worker started"/, 45_000);
    await scheduling.waitForOutput(/cron schedules registered \(RUN_SCHEDULER=true\)/, 10_000).catch(() => undefined);
    const entries = await cronTable(client);
    expect(
      entries.map((e) => e.task).sort(),
      `the worker started with RUN_SCHEDULER=true should register both entries of the cron table${entries.length === 0 ? ' (is registerCron done? TODO 1)' : ''}`,
    ).toEqual(['cleanup_uploads', 'nightly_digest']);
    expect(
      scheduling.output().includes('cron schedules registered (RUN_SCHEDULER=true)'),
      "the worker started with RUN_SCHEDULER=true should log 'cron schedules registered (RUN_SCHEDULER=true)'",
    ).toBe(true);
  });
});
