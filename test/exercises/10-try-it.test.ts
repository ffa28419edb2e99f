// Exercise 10: the lesson's "Try it". send_birthday_email, from its payload to
// the inbox: the task (TODO 1), its handler (TODO 2), the endpoint that
// enqueues it (TODO 3), then the learner's own API and worker, a retry included.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TODO_NOT_DONE } from '../../workshop/shared/verdict.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { seed } from '../../src/db/seed.ts';
import { UserRepo } from '../../src/db/users.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { checkPayload } from '../../src/jobs/tasks.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';
import { explain, explainInbox, explainJob, explainLog, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks, startProcess } from '../support/course/exercise.ts';
import { jobRan } from '../support/course/job-ran.ts';
import { captureLog } from '../support/course/log.ts';
import { failOnServerError } from '../support/course/server-error.ts';
import { createInbox, type Mail } from '../support/services/inbox.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

/** Seed user 3's name, HTML on purpose. */
const BOBBY = 'Bobby <b>"Tables"</b> & Co';
const BOBBY_AS_TEXT = 'Bobby &lt;b&gt;&quot;Tables&quot;&lt;/b&gt; &amp; Co';
const NOBODY = 424_242;

/**
 * notDone turns the starter's answer, 501 "TODO(n) is not done yet: …", into
 * the error the verdict shows as such, before any other check on the answer.
 */
function notDone(body: Record<string, any>): void {
  if (typeof body.error === 'string' && TODO_NOT_DONE.test(body.error)) throw new Error(body.error);
}

/** askToSend posts to the route in an API testbed; a gap or a 500 fails the check with its cause (see failOnServerError). */
async function askToSend(api: ReturnType<typeof apiTestbed>, userId: string | number) {
  const path = `/api/dev/send-birthday/${userId}`;
  const answer = await api.post(path);
  notDone(answer.body);
  failOnServerError(`POST ${path}`, answer);
  return answer;
}

/**
 * prepareUsers seeds a database and gives its users addresses of their own
 * (ada+1a2b3c@example.test), since every suite that runs now shares the inbox.
 * It returns each user's address by id.
 */
function prepareUsers(db: Db): Map<number, string> {
  seed(db);
  const tag = randomBytes(3).toString('hex');
  db.prepare("UPDATE users SET email = replace(email, '@', '+' || ? || '@')").run(tag);
  return new Map(new UserRepo(db).all().map((user) => [user.id, user.email]));
}

describe('step 1: the task', () => {
  it('send_birthday_email takes { user_id }, a positive whole number (TODO 1)', () => {
    const checked = checkPayload('send_birthday_email', { user_id: 3 });
    if (checked.ok && Object.keys(checked.data).length === 0) {
      throw new Error('TODO(1) is not done yet: the schema of send_birthday_email drops user_id, so the handler would get {}');
    }
    expect(
      checked,
      'the payload { user_id: 3 } should fit, and keep its user_id: it is all the handler gets',
    ).toEqual({ ok: true, data: { user_id: 3 } });
    for (const bad of [{}, { user_id: 'three' }, { user_id: 0 }, { user_id: 1.5 }]) {
      expect(checkPayload('send_birthday_email', bad).ok, `the payload ${JSON.stringify(bad)} should be refused`).toBe(false);
    }
  });
});

describe('step 2: the handler, in a worker', () => {
  const bed = jobsTestbed('ex10');
  const log = captureLog();
  const inbox = createInbox(services());
  const mailer = createSmtpMailer(services().smtpUrl, 'Workshop Shop <shop@example.test>');
  const db = openDatabase(':memory:');
  const emails = prepareUsers(db);
  const queue = bed.client.queue('default');

  beforeAll(async () => {
    const mux = new ServeMux();
    new Handlers({
      mailer,
      uploads: new Uploads(mkdtempSync(join(tmpdir(), 'ex10-uploads-'))),
      users: new UserRepo(db),
      orders: new OrderRepo(db),
      digestTo: 'digest@example.test',
    }).register(mux);
    await bed.startServer(mux, { logger: log.logger, queues: { default: 1 } });
  });
  afterAll(async () => {
    await bed.cleanup();
    mailer.close();
    db.close();
  });

  it('a send_birthday_email job emails the user "Happy birthday, <name>!" (TODO 2)', async () => {
    const to = emails.get(1)!;
    let id: string | undefined;
    explainInbox(inbox, (mail) => mail.to.includes(to));
    explainLog('the worker logged', log.lines, () => id);
    explainJob(queue, () => id);

    ({ id } = await bed.client.enqueue('send_birthday_email', { user_id: 1 }));
    const state = await jobRan(queue, id, 'send_birthday_email');
    const job = await queue.getJob(id);
    expect(state, `the job should be done; it is ${state}: ${job?.failedReason ?? ''}`).toBe('completed');

    const mail = await inbox.waitFor((m) => m.to.includes(to), 10_000);
    expect(mail.subject, "the email should come from birthdayEmail({ name }), with the user's name").toBe('Happy birthday, Ada Lovelace!');
  });

  it('a user that does not exist makes the job dead at once: no retry can bring him back (TODO 2)', async () => {
    let id: string | undefined;
    explainLog('the worker logged', log.lines, () => id);
    explainJob(queue, () => id);

    ({ id } = await bed.client.enqueue('send_birthday_email', { user_id: NOBODY }));
    const state = await jobRan(queue, id, 'send_birthday_email');
    const job = (await queue.getJob(id))!;

    expect(state, 'a user that does not exist should fail the job, not end it quietly').not.toBe('completed');
    expect(state, 'the job is waiting for a retry: throw UnrecoverableError, so that it is dead at once').toBe('failed');
    expect(job.attemptsMade, 'the job should be dead after its first attempt').toBe(1);
    expect(job.failedReason, 'the error should name the missing user').toContain(String(NOBODY));
  });
});

describe('step 3: the endpoint', () => {
  let bed: ReturnType<typeof apiTestbed>;
  beforeAll(async () => {
    bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('ex10-api') });
    await waitUntil('the connection to Redis', () => bed.redis.status === 'ready');
  });
  afterAll(() => bed?.close());

  const waitingJobs = () => bed.jobs.queue('default').getJobCountByTypes('waiting');

  it('POST /api/dev/send-birthday/2 answers 202 with the id of the job it enqueued (TODO 3)', async () => {
    const { status, body } = await askToSend(bed, 2);
    expect(status, `it should answer 202 Accepted; it answered ${status}: ${JSON.stringify(body)}`).toBe(202);
    expect(body, 'the answer should be { job_id, queue }').toEqual({ job_id: expect.any(String), queue: 'default' });

    const job = await bed.jobs.queue('default').getJob(body.job_id);
    expect(job, `no job ${body.job_id} in the default queue`).toBeDefined();
    expect(job!.name, "the job's name should be the task").toBe('send_birthday_email');
    expect(job!.data, "the job's payload should be the user's id, a number").toEqual({ user_id: 2 });
    expect(await job!.getState(), 'the job should wait for a worker: the endpoint only enqueues').toBe('waiting');
  });

  it('answers 400 for a user_id that is not a positive whole number, and enqueues nothing (TODO 3)', async () => {
    const before = await waitingJobs();
    explain('the default queue', async () => `${await waitingJobs()} waiting jobs, ${before} before the requests`);

    for (const bad of ['abc', '0', '-1', '1.5']) {
      const { status, body } = await askToSend(bed, bad);
      expect(status, `POST /api/dev/send-birthday/${bad} should answer 400; it answered ${status}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error, 'the answer should say what is wrong, as { error }').toEqual(expect.any(String));
    }
    expect(await waitingJobs(), 'a bad id should enqueue nothing').toBe(before);
  });

  it('answers 404 for a user that does not exist, and enqueues nothing (TODO 3)', async () => {
    const before = await waitingJobs();
    explain('the default queue', async () => `${await waitingJobs()} waiting jobs, ${before} before the request`);

    const { status, body } = await askToSend(bed, NOBODY);
    expect(status, `there is no user ${NOBODY}: it should answer 404; it answered ${status}: ${JSON.stringify(body)}`).toBe(404);
    expect(body.error, 'the answer should say what is wrong, as { error }').toEqual(expect.any(String));
    expect(await waitingJobs(), 'no job for a user that does not exist').toBe(before);
  });

  it('answers 503 while Redis is down, not a 500 (TODO 3)', async () => {
    // Nothing listens on this port: Redis is "down" for this API.
    const down = apiTestbed({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: uniquePrefix('ex10-down') });
    try {
      const { status, body, thrown } = await down.post('/api/dev/send-birthday/1');
      notDone(body);
      // A 500 here is the enqueue's error let through: name it, since the answer does not.
      const behind = thrown ? ` The error behind it: ${thrown.name}: ${thrown.message}` : '';
      expect(status, `the job cannot be enqueued: it should answer 503 Service Unavailable; it answered ${status}: ${JSON.stringify(body)}.${behind}`).toBe(503);
      expect(body.error, 'the answer should say what is wrong, as { error }').toEqual(expect.any(String));
    } finally {
      await down.close();
    }
  });
});

/**
 * A mail server in front of the mail catcher. It passes every email on,
 * except that it refuses the first try for a recipient it was told about, with
 * a temporary error (451), as a mail server that is busy for a moment does.
 */
interface FlakySmtp {
  url: string;
  refuseOnce(to: string): void;
  /** The recipients it refused so far. */
  refused(): string[];
  close(): Promise<void>;
}

async function startFlakySmtp(catcherUrl: string): Promise<FlakySmtp> {
  const catcher = new URL(catcherUrl);
  const relay = createTransport({ host: catcher.hostname, port: Number(catcher.port), secure: false, ignoreTLS: true });
  const toRefuse = new Set<string>();
  const refused: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((address) => address.address);
        const victim = to.find((address) => toRefuse.has(address));
        if (victim) {
          toRefuse.delete(victim);
          refused.push(victim);
          return callback(Object.assign(new Error('4.3.2 Busy, try again later (the test refuses the first try)'), { responseCode: 451 }));
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        relay.sendMail({ envelope: { from, to }, raw: Buffer.concat(chunks) }).then(
          () => callback(),
          (err: Error) => callback(Object.assign(err, { responseCode: 451 })),
        );
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    refuseOnce: (to) => toRefuse.add(to),
    refused: () => refused,
    async close() {
      relay.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The worker's first word on a job: done, dead, or failed with a retry to come. */
const OUTCOME = /job done|job dead|job failed/;

/** outcomeOf waits for the worker's first line that says how job `id` went, and returns its message. */
async function outcomeOf(worker: ChildScript, id: string): Promise<string> {
  // A whole line, up to its newline: the output comes in chunks that may end mid-line.
  const line = await worker.waitForOutput(new RegExp(`^.*"job":"${id}".*"msg":"(?:${OUTCOME.source})[^\\n]*\\n`, 'm'), 15_000);
  return (JSON.parse(line) as { msg: string }).msg;
}

describe('steps 4 to 6: your API and worker, end to end', () => {
  const inbox = createInbox(services());
  let api: ChildScript;
  let worker: ChildScript;
  let smtp: FlakySmtp | undefined;
  /** A client on your processes' queues, to bring a retry forward. */
  let queues: JobsClient | undefined;
  let baseUrl: string;
  let emails: Map<number, string>;

  // Your API and worker start once the checks of steps 1 to 3 pass.
  const endToEnd = afterEarlierChecks(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ex10-'));
    const databasePath = join(dir, 'shop.db');
    const db = openDatabase(databasePath);
    emails = prepareUsers(db);
    db.close();

    smtp = await startFlakySmtp(services().smtpUrl);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      REDIS_URL: services().redisUrl,
      SMTP_URL: smtp.url,
      QUEUE_PREFIX: uniquePrefix('ex10-e2e'),
      DATABASE_PATH: databasePath,
      UPLOADS_DIR: join(dir, 'uploads'),
      // A first retry 30 to 60 s away: step 6 brings it forward rather than wait.
      RETRY_BASE_DELAY_MS: '60000',
    };
    queues = new JobsClient(redisConnection({ redisUrl: env.REDIS_URL }), { prefix: env.QUEUE_PREFIX });
    api = startProcess('api', env);
    worker = startProcess('worker', env);
    await Promise.all([api.waitForOutput(/API listening/, 45_000), worker.waitForOutput(/worker started/, 45_000)]);
    // The API listens before its Redis connection is up: wait until GET /readyz says both are.
    await waitUntil('GET /readyz to answer 200', () => fetch(`${baseUrl}/readyz`).then((res) => res.ok, () => false), 15_000);
  });
  afterAll(async () => {
    await stopAll();
    await smtp?.close();
    await queues?.close();
  });

  /** sendBirthday posts to your API and checks that it answered 202 with a job id. */
  async function sendBirthday(userId: number): Promise<string> {
    const res = await fetch(`${baseUrl}/api/dev/send-birthday/${userId}`, { method: 'POST' });
    const body = (await res.json()) as Record<string, any>;
    notDone(body);
    expect(res.status, `POST /api/dev/send-birthday/${userId} should answer 202; it answered ${res.status}: ${JSON.stringify(body)}`).toBe(202);
    expect(body.job_id, 'the answer should carry the job id').toEqual(expect.any(String));
    return body.job_id as string;
  }

  function explainAll(to: string) {
    explainInbox(inbox, (mail: Mail) => mail.to.includes(to));
    explainOutput(api, 'your API wrote');
    explainOutput(worker, 'your worker wrote');
  }

  it('step 5: your endpoint enqueues, your worker runs the job, and the email is in the inbox (TODO 1, 2, 3)', async () => {
    await endToEnd();
    const to = emails.get(1)!;
    explainAll(to);

    const id = await sendBirthday(1);
    const outcome = await outcomeOf(worker, id);
    expect(outcome, `your worker should run job ${id} and log "job done"`).toMatch(/^job done/);

    const mail = await inbox.waitFor((m) => m.to.includes(to), 10_000);
    expect(mail.subject).toBe('Happy birthday, Ada Lovelace!');
  });

  it("user 3's name, full of HTML, shows as text in his email, not as markup (TODO 2)", async () => {
    await endToEnd();
    const to = emails.get(3)!;
    explainAll(to);

    const id = await sendBirthday(3);
    expect(await outcomeOf(worker, id), `your worker should run job ${id} and log "job done"`).toMatch(/^job done/);

    const mail = await inbox.waitFor((m) => m.to.includes(to), 10_000);
    expect(mail.subject, 'a subject is plain text: the name stays as it is').toBe(`Happy birthday, ${BOBBY}!`);
    expect(mail.html, 'in the HTML part the name should be escaped: birthdayEmail({ name }) does it').toContain(BOBBY_AS_TEXT);
    expect(mail.html, 'raw HTML from a user\'s name must never reach the email').not.toContain('<b>"Tables"</b>');
  });

  it('step 6: the mail server refuses the first try; your worker logs the retry, then the email goes out (TODO 2)', async () => {
    await endToEnd();
    const to = emails.get(2)!;
    explainAll(to);
    explain('the mail server in front of the inbox', () => `it refused the first try for: ${smtp!.refused().join(', ') || 'nobody yet'}`);
    smtp!.refuseOnce(to);

    const id = await sendBirthday(2);
    const first = await outcomeOf(worker, id);
    expect(first, 'the mail server refused the email, yet the job was done: let the error through, so the job is retried').not.toMatch(/^job done/);
    expect(first, 'a busy mail server is a passing failure: let its error through as it is, not as UnrecoverableError').not.toMatch(/^job dead/);
    expect(first, 'the worker should log the failure and when it will retry').toMatch(/^job failed \(attempt 1 of 26\), retrying at /);

    // As if the backoff were over: the job leaves the delayed set, and your worker takes it at once.
    const job = await queues!.queue('default').getJob(id);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    await worker.waitForOutput(new RegExp(`"job":"${id}".*"msg":"job done`), 15_000);
    const mail = await inbox.waitFor((m) => m.to.includes(to), 10_000);
    expect(mail.subject).toBe('Happy birthday, Grace Hopper!');
  });
});
