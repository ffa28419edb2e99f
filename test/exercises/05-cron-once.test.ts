// Exercise 05: the lesson's cron table, registered once however many
// schedulers run, and registered by a worker only where RUN_SCHEDULER=true.
//
// The checks after the first run your processes, all started at once when
// the first check passes: your scheduler, beside registerCron in this
// process, on one queue prefix, then `jobs schedules` on it; and two workers,
// with and without RUN_SCHEDULER, each on a prefix of its own. No check waits
// for a real tick: the next tick waits in Redis as a delayed job, and the
// check promotes it.
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
import { ROOT } from '../../workshop/course.ts';
import { explain, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks, currentExercise, startProcess } from '../support/course/exercise.ts';
import { spawnCommand, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

/** The lesson's cron table. */
const LESSON = { nightly_digest: '0 2 * * *', cleanup_uploads: '0 * * * *' } as const;
/** TICKS: how many ticks of cleanup_uploads the check runs. */
const TICKS = 5;

const clients: JobsClient[] = [];
afterAll(async () => {
  await stopAll();
  // Leave nothing behind in the learner's Redis.
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

/** local prints a time as this machine's clock shows it: "Mon 02:00:00". Cron patterns run on local time. */
function local(ms: number): string {
  if (Number.isNaN(ms)) return '(never)';
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-GB', { weekday: 'short' });
  return `${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** workerEnv gives a worker a queue prefix, a database and an uploads folder of its own. */
function workerEnv(prefix: string, runScheduler: string): Record<string, string> {
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

/** TOP_LEVEL_DONE: what startWorkerToTheEnd prints once your cmd/worker.ts has run to its last line. */
const TOP_LEVEL_DONE = 'cmd/worker.ts ran to its last line';

/**
 * startWorkerToTheEnd runs the README's command, `node --import tsx
 * workshop/run.ts worker 5`, in a node process that prints TOP_LEVEL_DONE once
 * the import of workshop/run.ts resolves. That import awaits your
 * cmd/worker.ts to its last line, past the place where a worker registers the
 * cron table. So after that line, whatever the worker was going to register
 * is in Redis.
 */
function startWorkerToTheEnd(env: Record<string, string>): ChildScript {
  const { number, target } = currentExercise();
  const runTs = join(ROOT, 'workshop', 'run.ts');
  const script = `
    process.argv = [process.argv[0], ${JSON.stringify(runTs)}, 'worker', '${number}'];
    await import(${JSON.stringify(pathToFileURL(runTs).href)});
    console.log(${JSON.stringify(TOP_LEVEL_DONE)});
  `;
  return spawnCommand('node --import tsx --input-type=module --eval "$WORKER_SCRIPT"', { ...env, COURSE_TARGET: target, WORKER_SCRIPT: script }, 'worker (exercise 5, RUN_SCHEDULER unset)');
}

// The two schedulers' queues: a testbed, whose server runs their ticks in the tick check.
const bed = jobsTestbed('ex05-schedulers');
clientOn(bed.prefix); // so that the suite's cleanup empties its queues too
afterAll(() => bed.cleanup());

/**
 * Your processes, started together once the first check passes. The two
 * schedulers are your scheduler process and this check's own process, which
 * runs your registerCron too: two processes, as in two terminals.
 */
const processes = afterEarlierChecks(async () => {
  const env = { REDIS_URL: services().redisUrl, QUEUE_PREFIX: bed.prefix };
  const scheduler = startProcess('scheduler', env);
  const plainPrefix = uniquePrefix('ex05-plain');
  const schedulingPrefix = uniquePrefix('ex05-run-scheduler');
  const plain = { child: startWorkerToTheEnd(workerEnv(plainPrefix, '')), client: clientOn(plainPrefix) };
  const scheduling = { child: startProcess('worker', workerEnv(schedulingPrefix, 'true')), client: clientOn(schedulingPrefix) };

  // `jobs schedules` reads the cron table once both schedulers have registered theirs.
  const registered = Promise.all([registerCron(new Scheduler(bed.client)), scheduler.waitForOutput(/cron schedules registered/, 45_000)]);
  const schedules = registered.then(() => startProcess('jobs', env, ['schedules']));
  schedules.catch(() => {}); // the checks that await it report the failure
  return { scheduler, registered, schedules, plain, scheduling };
});

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

describe('two schedulers, your scheduler process and registerCron in a second process', () => {
  it("leave the lesson's 2 entries in the cron table, not 4, each with one next run waiting, and `jobs schedules` lists them (TODO 1, 2)", async () => {
    const { scheduler, schedules } = await processes();
    explainOutput(scheduler, 'your scheduler wrote');
    explain('the cron table in Redis', () => describeTable(bed.client));
    const listing = await schedules;
    explainOutput(listing, '`jobs 5 schedules` printed');

    const entries = await cronTable(bed.client);
    expect(
      entries.map((e) => e.task).sort(),
      `after two schedulers the cron table should hold the lesson's two entries, once each. It holds ${entries.length}${entries.length === 0 ? ': registerCron registers nothing yet (TODO 1)' : ''}`,
    ).toEqual(['cleanup_uploads', 'nightly_digest']);
    // Each entry has its next run waiting in Redis as a delayed job: one per entry, not one per process.
    const waiting = (await bed.client.queue('default').getDelayed()).map((job) => job.name).sort();
    expect(waiting, 'each entry should have exactly one next run waiting, so that each tick fires once').toEqual(['cleanup_uploads', 'nightly_digest']);

    await listing.exited;
    // Its table's columns are two spaces apart: task, pattern, queue, next run.
    const rows = listing.output().split('\n').filter((line) => /^(nightly_digest|cleanup_uploads)\s/.test(line));
    const listed = rows.map((row) => row.split(/\s{2,}/)).map(([task, , queue]) => `${task} on ${queue}`);
    expect(listed.sort(), '`jobs schedules` should list each entry once').toEqual(['cleanup_uploads on default', 'nightly_digest on default']);
  });

  it(`enqueue each tick once: ${TICKS} ticks of cleanup_uploads, one job each (TODO 2)`, async () => {
    const { scheduler, registered } = await processes();
    explainOutput(scheduler, 'your scheduler wrote');
    await registered;
    explain('the cron table in Redis', () => describeTable(bed.client));

    // A worker of the test's own runs the ticks. A tick's job id ends with the tick's time in ms.
    const ran = new Set<string>();
    const perTick = new Map<number, number>();
    const mux = new ServeMux();
    mux.handle('cleanup_uploads', async (_payload, ctx) => {
      const tick = Number(ctx.jobId.split(':').at(-1));
      perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
      ran.add(ctx.jobId);
    });
    explain('the ticks the worker ran', () =>
      perTick.size === 0 ? '(none)' : [...perTick].map(([tick, count]) => `${local(tick)}: ${count} job${count === 1 ? '' : 's'}`).join('\n'),
    );
    await bed.startServer(mux, { queues: { default: 1 } });

    // The next tick waits in Redis as a delayed job. Promote it: the worker runs it now, and
    // BullMQ puts the tick after it in its place. An entry per process has a job per process.
    const queue = bed.client.queue('default');
    for (let tick = 1; tick <= TICKS; tick++) {
      const next = (await queue.getDelayed()).filter((job) => job.name === 'cleanup_uploads');
      expect(next.length, `no next tick of cleanup_uploads waits in Redis${tick === 1 ? ': does registerCron register it? (TODO 1)' : ''}`).toBeGreaterThan(0);
      await Promise.all(next.map((job) => job.promote()));
      await waitUntil(`the worker to run tick ${tick}`, () => next.every((job) => ran.has(job.id!)), 10_000);
    }

    const doubled = [...perTick].filter(([, count]) => count > 1);
    expect(
      doubled.length,
      `${doubled.length} of ${perTick.size} ticks were enqueued more than once: each scheduler process keeps an entry of its own in Redis and fires it. Give the entry an id that both processes share`,
    ).toBe(0);
    expect(perTick.size, `the worker should have run ${TICKS} ticks`).toBe(TICKS);
  });
});

describe('RUN_SCHEDULER', () => {
  it('a worker registers the cron table only when started with RUN_SCHEDULER=true, and says so (TODO 3)', async () => {
    const { plain, scheduling } = await processes();
    explainOutput(plain.child, 'your worker without RUN_SCHEDULER wrote');
    explainOutput(scheduling.child, 'your worker with RUN_SCHEDULER=true wrote');
    explain('the cron table of the worker without RUN_SCHEDULER', () => describeTable(plain.client));
    explain('the cron table of the worker with RUN_SCHEDULER=true', () => describeTable(scheduling.client));

    await plain.child.waitForOutput(new RegExp(TOP_LEVEL_DONE), 45_000);
    expect(await describeTable(plain.client), 'a worker started without RUN_SCHEDULER should register no cron entry').toBe('(empty)');
    expect(
      plain.child.output().includes('cron schedules registered'),
      'a worker started without RUN_SCHEDULER should not register the cron table, but it logged "cron schedules registered"',
    ).toBe(false);

    // Registering comes after "worker started"; the log line right after registering.
    await scheduling.child.waitForOutput(/"msg":"worker started"/, 45_000);
    await scheduling.child.waitForOutput(/cron schedules registered/, 10_000).catch(() => undefined);
    const entries = await cronTable(scheduling.client);
    expect(
      entries.map((e) => e.task).sort(),
      `the worker started with RUN_SCHEDULER=true should register both entries of the cron table${entries.length === 0 ? ' (is registerCron done? TODO 1)' : ''}`,
    ).toEqual(['cleanup_uploads', 'nightly_digest']);
    expect(
      scheduling.child.output().includes('cron schedules registered (RUN_SCHEDULER=true)'),
      "the worker started with RUN_SCHEDULER=true should log 'cron schedules registered (RUN_SCHEDULER=true)'",
    ).toBe(true);
  });
});
