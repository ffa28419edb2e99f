// Exercise 04: your own worker process, `node --import tsx workshop/run.ts worker 4`:
// the lesson's 10 slots over the queues critical/default/low weighted 6/3/1,
// the app's handlers on its mux, and a drain on Ctrl-C.
//
// Two workers of yours serve every check. Both start at once, before the
// first check, each with queues, a database and an uploads folder of its own:
// - `full` has nothing set: it should start with the lesson's settings. It
//   finds 600 jobs waiting in each queue when it starts (for the ratio), and
//   sends its email to a mail server of this suite's own, which holds an
//   email until the Ctrl-C check lets it go. That check stops it, last.
// - `three` has WORKER_CONCURRENCY=3, and sends its email to the mail catcher.
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
import { explain, explainInbox, explainJob, explainOutput } from '../support/course/evidence.ts';
import { startProcess } from '../support/course/exercise.ts';
import { createInbox } from '../support/services/inbox.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { sleep, waitUntil } from '../support/wait.ts';

/** A worker started by the README's command, with queues, a database and an uploads folder of its own. */
interface Worker {
  child: ChildScript;
  client: JobsClient;
}

/**
 * The ratio check: each queue gets as many jobs as the check counts, so none
 * can run dry while it counts: all three have work the whole time.
 */
const JOBS_PER_QUEUE = 600;
const COUNTED = 600;

/** A customer of our own, so that the shared inbox has a recipient no other test uses. */
const customer = { email: `ex04-${randomBytes(4).toString('hex')}@example.test`, name: 'Katherine Johnson', id: 0 };

/**
 * HeldMail is this suite's own mail server. It accepts every email at once,
 * unless told to hold the next one: then it keeps the email's last reply
 * until release(), so the job that sends it keeps running until then.
 */
class HeldMail {
  readonly received: string[] = [];
  #holding = false;
  #held: (() => void) | undefined;
  #arrived: (() => void) | undefined;
  readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, done) => {
      stream.resume();
      stream.on('end', () => {
        const accept = () => {
          this.received.push(...session.envelope.rcptTo.map((rcpt) => rcpt.address));
          done();
        };
        if (!this.#holding) return accept();
        this.#held = accept;
        this.#arrived?.();
      });
    },
  });

  /** holdNext makes the server keep the next email; the promise resolves when that email has arrived. */
  holdNext(): Promise<void> {
    this.#holding = true;
    return new Promise((resolve) => (this.#arrived = resolve));
  }

  /** release accepts the email held, and every email after it. */
  release(): void {
    this.#holding = false;
    this.#held?.();
    this.#held = undefined;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const mail = new HeldMail();
const clients: JobsClient[] = [];
/** The workers that have exited. */
const gone = new WeakSet<ChildScript>();
let full: Worker;
let three: Worker;

beforeAll(async () => {
  const smtpUrl = await mail.listen();
  const threePrefix = uniquePrefix('ex04-three');
  three = {
    client: clientOn(threePrefix),
    child: startWorker('three', threePrefix, { WORKER_CONCURRENCY: '3' }, (db) => {
      customer.id = Number(
        db.prepare('INSERT INTO users (email, name, birthday) VALUES (?, ?, ?)').run(customer.email, customer.name, '1918-08-26').lastInsertRowid,
      );
    }),
  };
  // Fill its queues before it starts: the first job it takes already has all three to choose from.
  // cleanup_uploads on an empty folder is about the quickest job there is.
  const fullPrefix = uniquePrefix('ex04-full');
  const client = clientOn(fullPrefix);
  await Promise.all(
    QUEUES.map((queue) =>
      client.queue(queue).addBulk(Array.from({ length: JOBS_PER_QUEUE }, () => ({ name: 'cleanup_uploads', data: {}, opts: client.jobOptions() }))),
    ),
  );
  full = { client, child: startWorker('full', fullPrefix, { SMTP_URL: smtpUrl }) };
});

afterAll(async () => {
  await stopAll();
  await mail.close();
  // Leave nothing behind in the learner's Redis: each run makes thousands of jobs.
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

/**
 * startWorker runs `node --import tsx workshop/run.ts worker 4` on a queue prefix,
 * with a seeded database of its own (Ada is user 1) and an uploads folder.
 * `extra` adds to (or overrides) the environment.
 */
function startWorker(label: string, prefix: string, extra: Record<string, string>, addUsers?: (db: ReturnType<typeof openDatabase>) => void): ChildScript {
  const dir = mkdtempSync(join(tmpdir(), `ex04-${label}-`));
  const databasePath = join(dir, 'shop.db');
  const db = openDatabase(databasePath);
  seed(db);
  addUsers?.(db);
  db.close();
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
  void child.exited.then(() => gone.add(child));
  return child;
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
    await sleep(20);
  }
}

/** whyNotDone explains a job that did not complete, in the learner's terms. */
async function whyNotDone(client: JobsClient, queue: QueueName, id: string, state: string): Promise<string> {
  if (state === 'failed') {
    const job = await client.queue(queue).getJob(id);
    const reason = job?.failedReason ?? '';
    // No full stop at the end: Vitest appends ": expected …".
    const hint = /no handler for task/.test(reason) ? '. Your mux has no handlers: register them (TODO 2)' : '';
    return `the job on "${queue}" is dead: ${reason}${hint}`;
  }
  if (state === 'waiting') return `the job on "${queue}" is still waiting: your worker does not take jobs from the "${queue}" queue (TODO 1)`;
  return `the job on "${queue}" is ${state}, not completed`;
}

describe('your worker process', () => {
  it('starts with 10 slots and the queues weighted critical 6, default 3, low 1 (TODO 1)', async () => {
    explainStarted(full.child);
    explainOutput(full.child, 'your worker wrote');
    const started = await startedLine(full.child);
    expect(started.concurrency, 'with WORKER_CONCURRENCY unset, the worker should run 10 jobs at once').toBe(10);
    expect(started.queues, 'the worker should serve the three queues with the lesson\'s weights').toEqual({ critical: 6, default: 3, low: 1 });
  });

  it('takes a job from each queue, critical, default and low, and logs "job done" for each (TODO 1)', async () => {
    explainOutput(three.child, 'your worker wrote');
    const served: Partial<Record<QueueName, number>> = (await startedLine(three.child)).queues ?? {};
    const ids = {} as Record<QueueName, string>;
    for (const queue of QUEUES) ({ id: ids[queue] } = await three.client.enqueue('cleanup_uploads', {}, { queue }));

    // Wait until each job is done, dead, or waiting in a queue the worker said it does not serve: that one stays there.
    const final = (state: string, queue: QueueName) => state === 'completed' || state === 'failed' || (state === 'waiting' && !((served[queue] ?? 0) > 0));
    const deadline = Date.now() + 15_000;
    let states: string[] = [];
    do {
      states = await Promise.all(QUEUES.map((queue) => three.client.queue(queue).getJobState(ids[queue])));
      if (states.every((state, i) => final(state, QUEUES[i]!))) break;
      await sleep(20);
    } while (Date.now() < deadline);

    for (const [i, queue] of QUEUES.entries()) {
      const state = states[i]!;
      expect(state, await whyNotDone(three.client, queue, ids[queue], state)).toBe('completed');
    }
    for (const queue of QUEUES) {
      await waitUntil(`"job done" for the job on ${queue}`, () => logsDone(three.child, ids[queue]), 5_000);
    }
  });

  it("runs the app's handlers: a send_birthday_email job emails the customer (TODO 2)", async () => {
    explainOutput(three.child, 'your worker wrote');
    explainInbox(createInbox(services()), (m) => m.to.includes(customer.email));
    await startedLine(three.child);
    const { id } = await three.client.enqueue('send_birthday_email', { user_id: customer.id });
    explainJob(three.client.queue('default'), () => id);

    const state = await settled(three.client, 'default', id, 15_000);
    expect(state, await whyNotDone(three.client, 'default', id, state)).toBe('completed');
    const email = await createInbox(services()).waitFor((m) => m.to.includes(customer.email), 10_000);
    expect(email.subject).toBe(`Happy birthday, ${customer.name}!`);
    await waitUntil('"job done" in the log', () => logsDone(three.child, id), 5_000);
  });
});

describe('WORKER_CONCURRENCY', () => {
  it('sets the number of slots: WORKER_CONCURRENCY=3 starts a worker with 3 (TODO 1)', async () => {
    explainStarted(three.child);
    explainOutput(three.child, 'your worker wrote');
    const started = await startedLine(three.child);
    expect(started.concurrency, 'the number of slots should come from the config, which reads WORKER_CONCURRENCY').toBe(3);
  });
});

describe('weighted queues', () => {
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
    const { child, client } = full;
    explainOutput(child, 'your worker wrote');

    // The order in which the worker starts jobs is the order of its "job started" lines.
    const started: QueueName[] = [];
    let parsed = 0;
    const readNewLines = () => {
      const text = child.output();
      const end = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(parsed, end).split('\n')) {
        if (!line.includes('"msg":"job started"') || started.length >= COUNTED) continue;
        started.push((JSON.parse(line) as { queue: QueueName }).queue);
      }
      parsed = end;
    };
    const count = () => {
      const counts: Record<QueueName, number> = { critical: 0, default: 0, low: 0 };
      for (const queue of started) counts[queue]++;
      return counts;
    };
    /** hopeless: a count is out of its bounds already, however the jobs still to count go. */
    const hopeless = () => {
      const counts = count();
      const left = COUNTED - started.length;
      return QUEUES.some((queue) => counts[queue] > BOUNDS[queue][1] || counts[queue] + left < BOUNDS[queue][0]);
    };
    const decided = () => started.length === COUNTED || hopeless();
    explain('the first jobs your worker started, per queue', () => {
      const counts = count();
      return `${started.length} jobs: critical ${counts.critical}, default ${counts.default}, low ${counts.low} (expected about 360, 180, 60)`;
    });

    try {
      await startedLine(child);
      const deadline = Date.now() + 60_000;
      for (readNewLines(); !decided() && !gone.has(child) && Date.now() < deadline; readNewLines()) await sleep(50);
    } finally {
      // The jobs it has not started yet are not needed: the Ctrl-C check wants this worker idle.
      await Promise.all(QUEUES.map((queue) => client.queue(queue).drain()));
    }

    if (!hopeless()) expect(started.length, `your worker should start ${COUNTED} of the ${3 * JOBS_PER_QUEUE} jobs within a minute`).toBe(COUNTED);
    const counts = count();
    const early = started.length < COUNTED ? ` (the check stopped there: however the next ${COUNTED - started.length} go, one count stays out of its bounds)` : '';
    const summary = `of the first ${started.length} jobs your worker started, ${counts.critical} came from critical, ${counts.default} from default and ${counts.low} from low${early}`;
    for (const queue of QUEUES) {
      const [low, high] = BOUNDS[queue];
      expect(counts[queue], `${summary}. With weights 6/3/1, ${queue} should have between ${low} and ${high} of ${COUNTED}`).toBeGreaterThanOrEqual(low);
      expect(counts[queue], `${summary}. With weights 6/3/1, ${queue} should have between ${low} and ${high} of ${COUNTED}`).toBeLessThanOrEqual(high);
    }
  });
});

describe('Ctrl-C', () => {
  it('while a job runs: the worker lets it finish, logs "job done", exits 0, and the job is completed in Redis (TODO 3)', async () => {
    const { child, client } = full;
    explainOutput(child, 'your worker wrote');
    await startedLine(child);

    // Ada is user 1. Our mail server holds her email: the job runs until we let it go.
    const arrived = mail.holdNext();
    const { id } = await client.enqueue('send_birthday_email', { user_id: 1 });
    explainJob(client.queue('default'), () => id);
    // Wait until the email is at the mail server, or the job is dead (or done), or the worker is gone.
    let atMailServer = false;
    void arrived.then(() => (atMailServer = true));
    const deadline = Date.now() + 15_000;
    while (!atMailServer && !gone.has(child) && Date.now() < deadline) {
      const state = await client.queue('default').getJobState(id);
      if (state === 'completed' || state === 'failed') break;
      await sleep(20);
    }

    // Ctrl-C: the terminal sends SIGINT to every process of the command.
    child.kill('SIGINT');
    // Let the email go once the worker has begun to shut down (or is gone): whatever
    // its shutdown closes first, it has closed by now.
    await Promise.race([child.exited, child.waitForOutput(/"msg":"SIGINT: shutting down"/, 5_000).catch(() => undefined)]);
    mail.release();
    const exit = await Promise.race([child.exited, sleep(30_000).then(() => 'still running 30 s after Ctrl-C')]);

    expect(exit, "after Ctrl-C your worker should finish its job and exit with code 0. Without a SIGINT handler Node ends it at once, with code 130").toEqual({ code: 0, signal: null });
    const state = await settled(client, 'default', id, 0);
    expect(state, await whyNotDone(client, 'default', id, state)).toBe('completed');
    expect(logsDone(child, id), 'your worker should log "job done" for the job before it exits').toBe(true);
    expect(mail.received, 'the job should have handed the email to the mail server').toContain('ada@example.test');
  });
});
