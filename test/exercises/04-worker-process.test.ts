// Exercise 04: your own worker process, `node --import tsx workshop/run.ts worker 4`:
// the lesson's 10 slots over the queues critical/default/low weighted 6/3/1,
// the app's handlers on its mux, and a drain on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { seed } from '../../src/db/seed.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { QUEUES, type QueueName } from '../../src/jobs/defaults.ts';
import { explain, explainInbox, explainJob, explainOutput } from '../course/evidence.ts';
import { startProcess } from '../course/exercise.ts';
import { createInbox } from '../harness/inbox.ts';
import { stopAll, type ChildScript } from '../harness/process.ts';
import { services, uniquePrefix } from '../harness/services.ts';
import { sleep, waitUntil } from '../support/wait.ts';

/** A worker started by the README's command, with queues, a database and an uploads folder of its own. */
interface Worker {
  child: ChildScript;
  client: JobsClient;
}

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

/**
 * startWorker runs `node --import tsx workshop/run.ts worker 4` with its own queue
 * prefix, database and uploads folder, and returns it with a client on its
 * queues. `extra` adds to (or overrides) the environment.
 */
function startWorker(label: string, extra: Record<string, string> = {}, prepare?: (databasePath: string) => void): Worker {
  const dir = mkdtempSync(join(tmpdir(), `ex04-${label}-`));
  const prefix = uniquePrefix(`ex04-${label}`);
  const databasePath = join(dir, 'shop.db');
  prepare?.(databasePath);
  const child = startProcess('worker', {
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: prefix,
    DATABASE_PATH: databasePath,
    UPLOADS_DIR: join(dir, 'uploads'),
    // Empty means "not set": the config's defaults apply, whatever this shell exported.
    WORKER_CONCURRENCY: '',
    SHUTDOWN_TIMEOUT_MS: '',
    RUN_SCHEDULER: '',
    ...extra,
  });
  const client = new JobsClient(redisConnection({ redisUrl: services().redisUrl }), { prefix });
  clients.push(client);
  return { child, client };
}

/** logEntries parses the JSON log lines a process wrote (other lines are skipped). */
function logEntries(child: ChildScript): Record<string, any>[] {
  return child
    .output()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
}

/** startedLine is the worker's "worker started" log entry, once it has written it. */
async function startedLine(child: ChildScript): Promise<Record<string, any>> {
  await child.waitForOutput(/"msg":"worker started"/, 45_000);
  return logEntries(child).find((entry) => entry.msg === 'worker started')!;
}

/** explainStarted shows the settings the worker logged when it started. */
function explainStarted(child: ChildScript): void {
  explain('your worker started with', () => {
    const entry = logEntries(child).find((e) => e.msg === 'worker started');
    return entry ? `concurrency ${JSON.stringify(entry.concurrency)}, queues ${JSON.stringify(entry.queues)}` : 'it has not logged "worker started"';
  });
}

/** logsDone tells whether the worker logged "job done" for a job. */
function logsDone(child: ChildScript, id: string): boolean {
  return logEntries(child).some((entry) => entry.job === id && /^job done/.test(entry.msg));
}

/** settled waits until a job is completed or dead, or until timeoutMs, and returns its state then. */
async function settled(client: JobsClient, queue: QueueName, id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await client.queue(queue).getJobState(id);
    if (state === 'completed' || state === 'failed' || Date.now() > deadline) return state;
    await sleep(50);
  }
}

/** whyNotDone explains a job that did not complete, in the learner's terms. */
async function whyNotDone(client: JobsClient, queue: QueueName, id: string, state: string): Promise<string> {
  if (state === 'failed') {
    const job = await client.queue(queue).getJob(id);
    const reason = job?.failedReason ?? '';
    const hint = /no handler for task/.test(reason) ? ' Your mux has no handlers: register them (TODO 2).' : '';
    return `the job on "${queue}" is dead: ${reason}.${hint}`;
  }
  if (state === 'waiting') return `the job on "${queue}" is still waiting: your worker does not take jobs from the "${queue}" queue (TODO 1).`;
  return `the job on "${queue}" is ${state}, not completed.`;
}

describe('your worker process', () => {
  let worker: Worker;
  /** A customer of our own, so that the shared inbox has a recipient no other test uses. */
  const customer = { email: `ex04-${randomBytes(4).toString('hex')}@example.test`, name: 'Katherine Johnson', id: 0 };

  beforeAll(async () => {
    worker = startWorker('main', {}, (databasePath) => {
      const db = openDatabase(databasePath);
      seed(db);
      customer.id = Number(
        db.prepare('INSERT INTO users (email, name, birthday) VALUES (?, ?, ?)').run(customer.email, customer.name, '1918-08-26').lastInsertRowid,
      );
      db.close();
    });
    await worker.child.waitForOutput(/"msg":"worker started"/, 45_000);
  });

  it('starts with 10 slots and the queues weighted critical 6, default 3, low 1 (TODO 1)', async () => {
    explainStarted(worker.child);
    const started = await startedLine(worker.child);
    expect(started.concurrency, 'with WORKER_CONCURRENCY unset, the worker should run 10 jobs at once').toBe(10);
    expect(started.queues, 'the worker should serve the three queues with the lesson\'s weights').toEqual({ critical: 6, default: 3, low: 1 });
  });

  it('takes a job from each queue, critical, default and low, and logs "job done" for each (TODO 1)', async () => {
    explainOutput(worker.child, 'your worker wrote');
    const ids = {} as Record<QueueName, string>;
    for (const queue of QUEUES) ({ id: ids[queue] } = await worker.client.enqueue('cleanup_uploads', {}, { queue }));

    // A job that is dead or left waiting will not complete: stop as soon as one is dead.
    const deadline = Date.now() + 15_000;
    let states: string[] = [];
    do {
      states = await Promise.all(QUEUES.map((queue) => worker.client.queue(queue).getJobState(ids[queue])));
      if (states.every((state) => state === 'completed') || states.includes('failed')) break;
      await sleep(50);
    } while (Date.now() < deadline);

    for (const [i, queue] of QUEUES.entries()) {
      const state = states[i]!;
      expect(state, await whyNotDone(worker.client, queue, ids[queue], state)).toBe('completed');
    }
    for (const queue of QUEUES) {
      await waitUntil(`"job done" for the job on ${queue}`, () => logsDone(worker.child, ids[queue]), 5_000);
    }
  });

  it("runs the app's handlers: a send_birthday_email job emails the customer (TODO 2)", async () => {
    explainOutput(worker.child, 'your worker wrote');
    explainInbox(createInbox(services()), (mail) => mail.to.includes(customer.email));
    const { id } = await worker.client.enqueue('send_birthday_email', { user_id: customer.id });
    explainJob(worker.client.queue('default'), () => id);

    const state = await settled(worker.client, 'default', id, 15_000);
    expect(state, await whyNotDone(worker.client, 'default', id, state)).toBe('completed');
    const mail = await createInbox(services()).waitFor((m) => m.to.includes(customer.email), 10_000);
    expect(mail.subject).toBe(`Happy birthday, ${customer.name}!`);
    await waitUntil('"job done" in the log', () => logsDone(worker.child, id), 5_000);
  });
});

describe('WORKER_CONCURRENCY', () => {
  it('sets the number of slots: WORKER_CONCURRENCY=3 starts a worker with 3 (TODO 1)', async () => {
    const { child } = startWorker('three', { WORKER_CONCURRENCY: '3' });
    explainStarted(child);
    explainOutput(child, 'your worker wrote');
    const started = await startedLine(child);
    expect(started.concurrency, 'the number of slots should come from the config, which reads WORKER_CONCURRENCY').toBe(3);
    child.kill('SIGKILL');
  });
});

describe('weighted queues', () => {
  // Each queue gets as many jobs as the test counts, so none can run dry
  // while it counts: all three have work the whole time.
  const JOBS_PER_QUEUE = 600;
  const COUNTED = 600;
  /**
   * Each free slot draws the next queue at random, by weight: critical with
   * probability 0.6, default 0.3, low 0.1. So among the first 600 jobs the
   * count of each queue follows a binomial law:
   *   critical: mean 360, standard deviation 12.0 (sqrt(600 × 0.6 × 0.4))
   *   default:  mean 180, standard deviation 11.2
   *   low:      mean  60, standard deviation  7.3
   * The draws happen in the worker, another process, with Math.random: they
   * cannot be seeded. So the bounds below are wide: 5.4 to 6.8 standard
   * deviations from each mean. By the exact binomial tails, a correct worker
   * falls outside one of them less than once in a billion runs. They still
   * catch the usual mistakes: one queue only (600/0/0 or 0/600/0), equal
   * weights (200/200/200), the weights reversed (60/180/360), low left out (0).
   */
  const BOUNDS: Record<QueueName, [number, number]> = { critical: [280, 440], default: [110, 250], low: [20, 110] };

  it('with all three queues full, serves them about 6:3:1 (TODO 1)', async () => {
    const prefix = uniquePrefix('ex04-ratio');
    const client = new JobsClient(redisConnection({ redisUrl: services().redisUrl }), { prefix });
    clients.push(client);
    // Fill the queues before the worker starts: the first job it takes already has all three to choose from.
    // cleanup_uploads on an empty folder is about the quickest job there is.
    for (const queue of QUEUES) {
      await client.queue(queue).addBulk(Array.from({ length: JOBS_PER_QUEUE }, () => ({ name: 'cleanup_uploads', data: {}, opts: client.jobOptions() })));
    }

    const dir = mkdtempSync(join(tmpdir(), 'ex04-ratio-'));
    const child = startProcess('worker', {
      REDIS_URL: services().redisUrl,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_PATH: join(dir, 'shop.db'),
      UPLOADS_DIR: join(dir, 'uploads'),
      WORKER_CONCURRENCY: '',
      RUN_SCHEDULER: '',
    });
    explainOutput(child, 'your worker wrote');

    // The order in which the worker starts jobs is the order of its "job started" lines.
    const started: QueueName[] = [];
    let parsed = 0;
    const readNewLines = () => {
      const text = child.output();
      const end = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(parsed, end).split('\n')) {
        if (!line.includes('"msg":"job started"')) continue;
        const queue = (JSON.parse(line) as { queue: QueueName }).queue;
        started.push(queue);
      }
      parsed = end;
      return started.length;
    };
    const count = () => {
      const counts: Record<QueueName, number> = { critical: 0, default: 0, low: 0 };
      for (const queue of started.slice(0, COUNTED)) counts[queue]++;
      return counts;
    };
    explain('the first jobs your worker started, per queue', () => {
      const counts = count();
      return `${Math.min(started.length, COUNTED)} jobs: critical ${counts.critical}, default ${counts.default}, low ${counts.low} (expected about 360, 180, 60)`;
    });

    await child.waitForOutput(/"msg":"worker started"/, 45_000);
    const deadline = Date.now() + 60_000;
    while (readNewLines() < COUNTED && Date.now() < deadline) await sleep(100);
    child.kill('SIGKILL');
    expect(started.length, `your worker should start ${COUNTED} of the ${3 * JOBS_PER_QUEUE} jobs within a minute`).toBeGreaterThanOrEqual(COUNTED);

    const counts = count();
    const summary = `of the first ${COUNTED} jobs, ${counts.critical} came from critical, ${counts.default} from default and ${counts.low} from low`;
    for (const queue of QUEUES) {
      const [low, high] = BOUNDS[queue];
      expect(counts[queue], `${summary}. With weights 6/3/1, ${queue} should have between ${low} and ${high}`).toBeGreaterThanOrEqual(low);
      expect(counts[queue], `${summary}. With weights 6/3/1, ${queue} should have between ${low} and ${high}`).toBeLessThanOrEqual(high);
    }
  });
});

describe('Ctrl-C', () => {
  /** HOLD_MS: how long our mail server keeps each email before it accepts it, so that a job lasts that long. */
  const HOLD_MS = 1_500;
  let smtp: SMTPServer;
  let smtpPort: number;
  const received: string[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, done) {
        stream.resume();
        stream.on('end', () =>
          setTimeout(() => {
            received.push(...session.envelope.rcptTo.map((rcpt) => rcpt.address));
            done();
          }, HOLD_MS),
        );
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it('while a job runs: the worker lets it finish, logs "job done", exits 0, and the job is completed in Redis (TODO 3)', async () => {
    const { child, client } = startWorker('drain', { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, (databasePath) => {
      const db = openDatabase(databasePath);
      seed(db);
      db.close();
    });
    explainOutput(child, 'your worker wrote');
    await startedLine(child);

    // Ada is user 1. Our mail server holds her email for 1.5 s: the job runs at least that long.
    const { id } = await client.enqueue('send_birthday_email', { user_id: 1 });
    explainJob(client.queue('default'), () => id);
    await child.waitForOutput(new RegExp(`"job":"${id}"[^\\n]*"msg":"job started"`), 15_000);
    // Ctrl-C: the terminal sends SIGINT to every process of the command.
    child.kill('SIGINT');
    const exit = await Promise.race([child.exited, sleep(30_000).then(() => 'still running 30 s after Ctrl-C')]);

    expect(exit, "after Ctrl-C your worker should finish its job and exit with code 0. Without a SIGINT handler Node ends it at once, with code 130").toEqual({ code: 0, signal: null });
    const state = await client.queue('default').getJobState(id);
    expect(state, await whyNotDone(client, 'default', id, state)).toBe('completed');
    expect(logsDone(child, id), 'your worker should log "job done" for the job before it exits').toBe(true);
    expect(received, 'the job should have handed the email to the mail server').toContain('ada@example.test');
  });
});
