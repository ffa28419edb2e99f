// Exercise 03: a handler per task. send_welcome is registered and sends the welcome
// email, awaited, so that a failed send is retried; ServeMux.process sends a job with
// no handler, or with a payload that does not fit, straight to the dead jobs.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { UserRepo } from '../../src/db/users.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';
import { explain, explainInbox, explainJob, explainLog } from '../support/course/evidence.ts';
import { captureLog, type LogCapture } from '../support/course/log.ts';
import { createInbox } from '../support/services/inbox.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const inbox = createInbox(services());
const smtp = createSmtpMailer(services().smtpUrl, 'Workshop Shop <shop@example.test>');
const db = openDatabase(':memory:');
afterAll(() => {
  smtp.close();
  db.close();
});

// Each test gets its own queues (a testbed has its own key prefix), so the
// worker of one test never takes the jobs of another.
const beds: ReturnType<typeof jobsTestbed>[] = [];
function testbed() {
  const bed = jobsTestbed('ex03');
  beds.push(bed);
  return bed;
}
afterAll(async () => {
  await Promise.all(beds.map((bed) => bed.cleanup()));
});

/** handlersWith builds the app's Handlers, sending mail through `mailer`. */
function handlersWith(mailer: Mailer): Handlers {
  const uploads = new Uploads(mkdtempSync(join(tmpdir(), 'ex03-uploads-')));
  return new Handlers({ mailer, uploads, users: new UserRepo(db), orders: new OrderRepo(db), digestTo: 'digest@example.test' });
}

/** A recipient no other test (or suite) writes to, so the inbox check is ours alone. */
function uniqueAddress(): string {
  return `welcome-${randomBytes(4).toString('hex')}@example.test`;
}

/**
 * outcome waits until the job is done, dead, or has failed at least `failures`
 * times, and returns its state then. It never waits for all the attempts.
 */
async function outcome(queue: Queue, id: string, failures = 1) {
  return waitUntil(
    `job ${id} to run`,
    async () => {
      // A job and its state are read in two calls: keep them only if the state held between both.
      const state = await queue.getJobState(id);
      const job = await queue.getJob(id);
      if (!job || (await queue.getJobState(id)) !== state) return undefined;
      if (state === 'completed' || state === 'failed' || job.attemptsMade >= failures) return { state, job };
      return undefined;
    },
    15_000,
  );
}

/** logged tells whether the worker logged a line about job `id` whose message matches `msg`. */
function logged(log: LogCapture, id: string, msg: RegExp): boolean {
  return log.lines().some((line) => {
    const entry = JSON.parse(line) as { job?: string; msg?: string };
    return entry.job === id && msg.test(entry.msg ?? '');
  });
}

describe('Handlers', () => {
  it('registers a handler for send_welcome, beside the other tasks (TODO 1)', () => {
    const mux = new ServeMux();
    handlersWith(smtp).register(mux);
    explain('the tasks register(mux) gave a handler', () => mux.tasks().join(', ') || '(none)');

    expect(mux.tasks(), "register(mux) should map 'send_welcome' to this.sendWelcome").toContain('send_welcome');
    expect(mux.tasks(), 'the other tasks should keep their handlers').toEqual(expect.arrayContaining(['resize_image', 'send_receipt', 'nightly_digest']));
  });

  it('a send_welcome job sends the welcome email: the worker runs it and the inbox gets it (TODO 2)', async () => {
    const bed = testbed();
    const log = captureLog();
    const mux = new ServeMux();
    handlersWith(smtp).register(mux);
    await bed.startServer(mux, { logger: log.logger });

    const to = uniqueAddress();
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);
    explainLog('the worker logged', log.lines, () => id);
    explainInbox(inbox, (mail) => mail.to.includes(to));

    ({ id } = await bed.client.enqueue('send_welcome', { to, name: 'Ada' }));
    const { state, job } = await outcome(bed.client.queue('default'), id);
    expect(state, `the job should be done after its first run; it failed: ${job.failedReason}`).toBe('completed');

    const mail = await inbox.waitFor((m) => m.to.includes(to), 10_000);
    expect(mail.subject, 'the email should come from the welcomeEmail template').toBe('Welcome, Ada!');
    expect(mail.text).toContain('Thanks for signing up');
  });

  it('a send that fails fails the job: it is retried, and the email arrives on the next attempt (TODO 2)', async () => {
    const bed = testbed();
    const log = captureLog();
    // The mail server has a bad moment: the first send fails, the next ones go through.
    let sends = 0;
    const flaky: Mailer = {
      send(message) {
        sends++;
        if (sends > 1) return smtp.send(message);
        const failure = Promise.reject(new Error('the mail server hung up (a passing failure)'));
        failure.catch(() => {}); // a handler that drops this promise should fail the test, not crash the run
        return failure;
      },
      close() {},
    };
    const mux = new ServeMux();
    handlersWith(flaky).register(mux);
    await bed.startServer(mux, { logger: log.logger });

    const to = uniqueAddress();
    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);
    explainLog('the worker logged', log.lines, () => id);
    explain('the mailer', () => `send() was called ${sends} time(s); the first call fails on purpose, the next ones send`);
    explainInbox(inbox, (mail) => mail.to.includes(to));

    ({ id } = await bed.client.enqueue('send_welcome', { to, name: 'Grace' }));
    const { state, job } = await outcome(bed.client.queue('default'), id, 3);
    expect(sends, `sendWelcome should send through this.deps.mailer; it was never called. The job's last error: ${job.failedReason}`).toBeGreaterThan(0);
    const failedOnce = logged(log, id, /^job failed \(attempt 1 of \d+\), retrying at /);
    expect(failedOnce, 'the first send failed, so the first attempt should fail too, and the job be retried. Does sendWelcome await the send?').toBe(true);
    expect(state, `the retry should send the email, and the job be done. Its last error: ${job.failedReason}`).toBe('completed');
    expect(sends, 'the mailer should be called twice: the failed send and the retry').toBe(2);
    await inbox.waitFor((m) => m.to.includes(to) && m.subject === 'Welcome, Grace!', 10_000);
  });
});

describe('ServeMux.process', () => {
  it('a job whose task has no handler is dead at once, after one attempt, with the reason (TODO 3)', async () => {
    const bed = testbed();
    const log = captureLog();
    // A worker that does not know send_welcome: an older deploy, or a forgotten register line.
    const mux = new ServeMux();
    mux.handle('send_receipt', async () => {});
    await bed.startServer(mux, { logger: log.logger });

    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);
    explainLog('the worker logged', log.lines, () => id);

    ({ id } = await bed.client.enqueue('send_welcome', { to: uniqueAddress(), name: 'Ada' }));
    const { state, job } = await outcome(bed.client.queue('default'), id);
    expect(job.failedReason, 'the job should fail, saying that no handler exists for its task').toMatch(/no handler for task "send_welcome"/);
    expect(state, 'no retry can fix a missing handler: the job should be dead (failed) at once, not waiting to be retried').toBe('failed');
    expect(job.attemptsMade, 'the job should have run once, and never be retried').toBe(1);
  });

  it('a payload that does not fit its task is dead at once, with the reason, and the handler never runs (TODO 4)', async () => {
    const bed = testbed();
    const log = captureLog();
    const received: unknown[] = [];
    const mux = new ServeMux();
    mux.handle('send_welcome', async (payload) => {
      received.push(payload);
    });
    await bed.startServer(mux, { logger: log.logger });

    let id: string | undefined;
    explainJob(bed.client.queue('default'), () => id);
    explainLog('the worker logged', log.lines, () => id);
    explain('the send_welcome handler', () => (received.length === 0 ? 'never ran' : `ran with ${received.map((p) => JSON.stringify(p)).join(', ')}`));

    // Straight through BullMQ, past JobsClient's own check: as a producer in another codebase, or an old job, would.
    const added = await bed.client.queue('default').add('send_welcome', { to: 'not-an-email', name: '' }, bed.client.jobOptions());
    id = added.id!;
    const { state, job } = await outcome(bed.client.queue('default'), id);
    expect(state, 'no retry can fix a bad payload: the job should be dead (failed) at once').toBe('failed');
    expect(job.failedReason, "the reason should be checkPayload's, naming the task and the fields").toMatch(/bad payload for send_welcome: .*to: /);
    expect(job.attemptsMade, 'the job should have run once, and never be retried').toBe(1);
    expect(received, 'the handler should never see a payload that does not fit').toEqual([]);
  });
});
