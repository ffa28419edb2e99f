// Exercise 07: find a dead job, read its payload and error, re-queue it: in code
// (Inspector, behind `npm run jobs`) and on the admin page (bull-board behind a login).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import type { QueueName } from '../../src/jobs/defaults.ts';
import { Inspector } from '../../src/jobs/inspector.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { welcomeEmail } from '../../src/mail/templates.ts';
import { explain, explainInbox, explainJob, explainLog, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks, startProcess } from '../support/course/exercise.ts';
import { captureLog } from '../support/course/log.ts';
import { createInbox } from '../support/services/inbox.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

const PAGE = '/admin/system/jobs';
const PASSWORD = 'ex07-s3cret';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

// One worker on this file's own queues. send_receipt fails for the orders in
// `failing`, the way a mail server that is down fails every receipt; take an
// order out of the set and the cause is fixed.
const bed = jobsTestbed('ex07');
const inspector = new Inspector(bed.client);
const failing = new Set<number>();
/** Orders whose next failures are counted down: the handler fails that many more times, then works. */
const failTimes = new Map<number, number>();
const log = captureLog();
const mux = new ServeMux();
mux.handle('send_receipt', async ({ order_id }) => {
  const left = failTimes.get(order_id);
  if (left !== undefined && left > 0) {
    failTimes.set(order_id, left - 1);
    throw new Error(`receipt ${order_id} failed: SMTP is still warming up`);
  }
  if (failing.has(order_id)) throw new Error(`receipt ${order_id} failed: connect ECONNREFUSED (the mail server is down)`);
});
afterAll(() => bed.cleanup());
/** Retries after 5 to 10 ms, not seconds: the checks wait for jobs to die, never for the clock. */
const FAST_RETRY = { baseDelayMs: 10, maxDelayMs: 100 };

/** A fresh order number for each job, so that no two tests share one. */
let nextOrder = 7_000;
const order = () => ++nextOrder;

/** jobState reads where a job is, as BullMQ names it ('failed' is dead). */
const jobState = (queue: QueueName, id: string) => bed.client.queue(queue).getJobState(id);

/** makeDead enqueues a receipt that keeps failing and waits until the worker has used up its attempts. */
async function makeDead(queue: QueueName, maxRetry: number): Promise<{ id: string; orderId: number }> {
  const orderId = order();
  failing.add(orderId);
  const { id } = await bed.client.enqueue('send_receipt', { order_id: orderId }, { queue, maxRetry });
  await waitUntil(`job ${id} (order ${orderId}) to die after ${maxRetry + 1} attempts`, async () => (await jobState(queue, id)) === 'failed', 15_000);
  return { id, orderId };
}

describe('Inspector: dead jobs, in code', () => {
  beforeAll(async () => {
    await bed.startServer(mux, { logger: log.logger, queues: { default: 1 }, retry: FAST_RETRY });
  });

  it('a job that keeps failing ends dead, and deadJobs lists it, newest first (TODO 1)', async () => {
    const first = await makeDead('default', 1);
    const second = await makeDead('default', 0);
    const waiting = await bed.client.enqueueIn('send_receipt', { order_id: order() }, 60_000);
    explainJob(bed.client.queue('default'), () => second.id, 'the newest dead job in Redis');
    explainLog('the worker logged', log.lines, () => first.id);

    const dead = await inspector.deadJobs('default');
    const ids = dead.map((job) => job.id);
    expect(ids, `deadJobs('default') should list job ${first.id}, which used up its 2 attempts`).toContain(first.id);
    expect(ids, 'deadJobs should list the dead jobs only, not one that waits for its turn').not.toContain(waiting.id);
    expect(ids.indexOf(second.id), `job ${second.id} died after job ${first.id}: newest first, it should come before it`).toBeLessThan(ids.indexOf(first.id));
    expect(dead.find((job) => job.id === first.id), 'each dead job should say its queue and task').toMatchObject({ queue: 'default', task: 'send_receipt' });

    const newest = await inspector.deadJobs('default', 1);
    expect(newest.map((job) => job.id), 'deadJobs(queue, 1) should give the newest dead job only').toEqual([second.id]);
    expect(await inspector.deadJobs('critical'), 'the critical queue has no dead job').toEqual([]);
  });

  it('deadJobs gives each dead job its payload, error, stack, attempts and time of death (TODO 2)', async () => {
    const before = Date.now();
    const { id, orderId } = await makeDead('default', 1);
    explainJob(bed.client.queue('default'), () => id);

    const dead = (await inspector.deadJobs('default')).find((job) => job.id === id);
    expect(dead, `deadJobs('default') should list job ${id}`).toBeDefined();
    expect(dead!.payload, 'payload: the data the job was enqueued with').toEqual({ order_id: orderId });
    expect(dead!.error, "error: the message its last attempt threw (BullMQ's failedReason)").toBe(`receipt ${orderId} failed: connect ECONNREFUSED (the mail server is down)`);
    expect(dead!.attemptsMade, 'attemptsMade: 1 run + 1 retry, both failed').toBe(2);
    expect(dead!.stacktrace.length, 'stacktrace: one stack per failed attempt').toBe(2);
    expect(dead!.stacktrace.at(-1), 'the last stack should start with the error').toMatch(new RegExp(`^Error: receipt ${orderId} failed`));
    expect(dead!.failedAt, "failedAt: when it died, as a Date (BullMQ's finishedOn)").toBeInstanceOf(Date);
    expect(dead!.failedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(dead!.failedAt!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('requeue moves a dead job back to waiting, with its attempts reset (TODO 3)', async () => {
    // A queue that no worker serves, so the job stays where requeue puts it.
    const server = await bed.startServer(mux, { logger: log.logger, queues: { low: 1 }, retry: FAST_RETRY });
    const { id } = await makeDead('low', 2);
    await server.shutdown();
    explainJob(bed.client.queue('low'), () => id);

    expect(await inspector.requeue('low', id), 'requeue should return true for a dead job').toBe(true);
    expect(await jobState('low', id), 'a re-queued job waits for a worker').toBe('waiting');
    const job = await bed.client.queue('low').getJob(id);
    expect(job!.attemptsMade, 'a re-queued job gets a fresh set of attempts: attemptsMade back to 0').toBe(0);
    expect(job!.attemptsStarted, 'and the starts are counted from 0 again: attemptsStarted back to 0').toBe(0);
    expect((await inspector.deadJobs('low')).map((dead) => dead.id), 'it is no longer dead').not.toContain(id);
  });

  it('a re-queued job runs again with all its attempts: it may fail once more and still completes once the cause is fixed (TODO 3)', async () => {
    const { id, orderId } = await makeDead('default', 1);
    explainJob(bed.client.queue('default'), () => id);
    explainLog('the worker logged', log.lines, () => id);

    // The cause is being fixed: one more failure, then it works.
    failing.delete(orderId);
    failTimes.set(orderId, 1);
    expect(await inspector.requeue('default', id), 'requeue should return true for a dead job').toBe(true);

    await waitUntil(`job ${id} to complete or die again`, async () => ['completed', 'failed'].includes(await jobState('default', id)), 15_000);
    expect(
      await jobState('default', id),
      'with its 2 attempts back, one failure is retried and the job completes; with its old count, it dies at the first failure',
    ).toBe('completed');
  });

  it('requeue returns false and changes nothing when the job is not dead, or not there (TODO 3)', async () => {
    const scheduled = await bed.client.enqueueIn('send_receipt', { order_id: order() }, 60_000);
    const waiting = await bed.client.enqueue('send_receipt', { order_id: order() }, { queue: 'critical' }); // no worker serves critical
    const done = await bed.client.enqueue('send_receipt', { order_id: order() });
    await waitUntil(`job ${done.id} to complete`, async () => (await jobState('default', done.id)) === 'completed', 15_000);

    const cases: [string, QueueName, string, string][] = [
      ['a scheduled job', 'default', scheduled.id, 'delayed'],
      ['a waiting job', 'critical', waiting.id, 'waiting'],
      ['a completed job', 'default', done.id, 'completed'],
    ];
    for (const [what, queue, id, state] of cases) {
      await expect(inspector.requeue(queue, id), `requeue of ${what} should resolve to false`).resolves.toBe(false);
      expect(await jobState(queue, id), `requeue should leave ${what} as it was`).toBe(state);
    }
    await expect(inspector.requeue('default', 'no-such-job'), 'requeue of an id with no job should resolve to false').resolves.toBe(false);
  });
});

describe('the admin page at /admin/system/jobs', () => {
  let open: ReturnType<typeof apiTestbed>;
  let locked: ReturnType<typeof apiTestbed>;
  beforeAll(async () => {
    // The page looks at this file's queues, where the worker above made dead jobs.
    open = apiTestbed({ redisUrl: services().redisUrl, prefix: bed.prefix, adminPassword: PASSWORD });
    locked = apiTestbed({ redisUrl: services().redisUrl, prefix: bed.prefix });
    await waitUntil('the connections to Redis', () => open.redis.status === 'ready' && locked.redis.status === 'ready');
  });
  afterAll(async () => {
    await open?.close();
    await locked?.close();
  });

  it('stays locked while ADMIN_PASSWORD is not set: 401, with a message that says to set it (TODO 4)', async () => {
    for (const [what, path, headers] of [
      ['the page', PAGE, {}],
      ['the page, with a login', PAGE, basic('admin', '')],
      ["the page's JSON API", `${PAGE}/api/queues`, basic('admin', 'admin')],
    ] as const) {
      const res = await locked.app.request(path, { headers });
      const body = await res.text();
      expect(res.status, `with no ADMIN_PASSWORD, ${what} should answer 401; it answered ${res.status}`).toBe(401);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
      expect(parsed, `the answer should be { "error": "…" } and say to set ADMIN_PASSWORD; it was ${body.slice(0, 200)}`).toEqual({
        error: expect.stringContaining('ADMIN_PASSWORD'),
      });
    }
  });

  it('asks for the login: 401 without one or with a wrong password, 200 with ADMIN_USER and ADMIN_PASSWORD (TODO 5)', async () => {
    const status = async (headers: Record<string, string>) => (await open.app.request(PAGE, { headers })).status;
    expect(await status({}), 'without a login the page should answer 401').toBe(401);
    const bare = await open.app.request(PAGE);
    expect(bare.headers.get('www-authenticate'), 'the 401 should carry WWW-Authenticate: Basic, which makes a browser show its login box').toMatch(/^Basic realm=/);
    expect(await status(basic('admin', 'wrong')), 'with a wrong password the page should answer 401').toBe(401);
    expect(await status(basic('someone', PASSWORD)), 'with the right password but another user the page should answer 401').toBe(401);

    const page = await open.app.request(PAGE, { headers: basic('admin', PASSWORD) });
    expect(page.status, 'with admin and the right password the page should answer 200').toBe(200);
    expect(await page.text(), 'it should be the jobs dashboard').toContain('<title>Jobs</title>');
  });

  it("the page's JSON API, behind the login: the dead job's payload and error, and Retry re-queues it (TODO 5)", async () => {
    const { id, orderId } = await makeDead('default', 0);
    explainJob(bed.client.queue('default'), () => id);
    const api = (path: string, init: RequestInit = {}) => open.app.request(`${PAGE}/api${path}`, { ...init, headers: basic('admin', PASSWORD) });

    expect((await open.app.request(`${PAGE}/api/queues`)).status, "the page's JSON API should answer 401 without a login too").toBe(401);

    // What the Failed tab of the default queue shows.
    const list = await api('/queues?activeQueue=default&status=failed&page=1&jobsPerPage=50');
    expect(list.status).toBe(200);
    const { queues } = (await list.json()) as { queues: { name: string; counts: Record<string, number>; jobs: { id: string; data: unknown; failedReason: string; attempts: number }[] }[] };
    const queue = queues.find((q) => q.name === 'default');
    expect(queue?.counts.failed, 'the default queue should count its dead jobs as failed').toBeGreaterThan(0);
    const shown = queue!.jobs.find((job) => job.id === id);
    expect(shown, `the Failed tab should list job ${id}`).toBeDefined();
    expect(shown).toMatchObject({ data: { order_id: orderId }, failedReason: `receipt ${orderId} failed: connect ECONNREFUSED (the mail server is down)`, attempts: 1 });

    // The Retry button of that job, once the cause is fixed.
    failing.delete(orderId);
    const retry = await api(`/queues/default/${id}/retry`, { method: 'PUT' });
    expect(retry.status, 'Retry should answer 204').toBe(204);
    await waitUntil(`job ${id} to complete after Retry`, async () => (await jobState('default', id)) === 'completed', 15_000);
  });
});

describe('your API, worker and jobs CLI, end to end', () => {
  const inbox = createInbox(services());
  const tag = randomBytes(3).toString('hex');
  const to = (n: number) => `ex07-${tag}-${n}@example.test`;
  const NAMES = ['', 'Ada', 'Grace', 'Linus'];
  // The queues of this part: the processes below get its prefix.
  const e2e = jobsTestbed('ex07-e2e');
  let env: Record<string, string>;
  let api: ChildScript;
  let worker: ChildScript;
  let baseUrl: string;
  /** The dead emails: [1] for the page's Retry, [2] for `requeue`. */
  const ids: string[] = [];
  let dead: Promise<{ code: number | null; output: string }>;
  let requeue: Promise<{ code: number | null; output: string }>;

  /** jobs runs `node --import tsx workshop/run.ts jobs 7 <args>` and resolves with its exit code and output. */
  async function jobs(args: string[]) {
    const child = startProcess('jobs', env, args);
    const { code } = await child.exited;
    return { code, output: child.output() };
  }

  // Your processes start once the checks above pass (see afterEarlierChecks),
  // all at once: none of them waits for another. This part has queues, a
  // database and recipients of its own, so on a re-run after a pass it can
  // start beside the checks above (early).
  const endToEnd = afterEarlierChecks(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ex07-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      REDIS_URL: services().redisUrl,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: e2e.prefix,
      DATABASE_PATH: join(dir, 'shop.db'),
      UPLOADS_DIR: join(dir, 'uploads'),
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: PASSWORD,
    };

    // Welcome emails die first, as in the README, while the mail server is
    // down: nothing listens on that port. A worker inside this test sends them
    // with the app's own mailer, with no retry: each dies at its first failure.
    const down = createSmtpMailer(`smtp://127.0.0.1:${await freePort()}`, 'Workshop Shop <shop@example.test>');
    const mux = new ServeMux();
    mux.handle('send_welcome', ({ to, name }) => down.send({ to, ...welcomeEmail({ name }) }));
    const server = await e2e.startServer(mux);
    for (const n of [1, 2, 3]) ids.push((await e2e.client.enqueue('send_welcome', { to: to(n), name: NAMES[n]! }, { maxRetry: 0 })).id);
    for (const id of ids) await waitUntil(`email job ${id} to die`, async () => (await e2e.client.queue('default').getJobState(id)) === 'failed', 15_000);
    await server.shutdown();
    down.close();

    // The mail server is back for your worker. Your commands read and
    // re-queue the dead jobs while it and your API start.
    api = startProcess('api', env);
    worker = startProcess('worker', env);
    dead = jobs(['dead']);
    requeue = jobs(['requeue', 'default', ids[2]!]);
    await Promise.all([api.waitForOutput(/API listening/, 45_000), worker.waitForOutput(/worker started/, 45_000)]);
  }, { early: true });
  afterAll(async () => {
    await stopAll();
    await e2e.cleanup();
  });

  it('`jobs 7 dead` lists the emails that could not be sent, with their task, attempts, time of death and error (TODO 1, 2)', async () => {
    await endToEnd();
    const listed = await dead;
    explain('node --import tsx workshop/run.ts jobs 7 dead printed', () => listed.output);
    expect(listed.code, '`jobs 7 dead` should exit 0').toBe(0);
    // The third one may already be back in the queue: `requeue` runs at the same time.
    for (const id of ids.slice(0, 2)) {
      expect(listed.output, `\`jobs 7 dead\` should list job ${id} with its task, 1 attempt, when it died and the SMTP error`).toMatch(
        new RegExp(`^${id}\\s+default\\s+send_welcome\\s+1\\s+\\d{4}-.+ UTC\\s+.*ECONNREFUSED`, 'm'),
      );
    }
  });

  it("your API asks for ADMIN_USER's login, and its Failed tab shows a dead email's payload and error (TODO 5)", async () => {
    await endToEnd();
    explainOutput(api, 'your API wrote');
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${baseUrl}${PAGE}${path}`, { headers });

    expect((await get('')).status, 'without a login the page should answer 401').toBe(401);
    expect((await get('', basic('admin', PASSWORD))).status, 'ADMIN_USER is "ops" here: admin should get 401').toBe(401);
    expect((await get('', basic('ops', PASSWORD))).status, 'ops with ADMIN_PASSWORD should get the page').toBe(200);

    const res = await get('/api/queues?activeQueue=default&status=failed&page=1&jobsPerPage=50', basic('ops', PASSWORD));
    expect(res.status).toBe(200);
    const { queues } = (await res.json()) as { queues: { name: string; jobs: { id: string; data: unknown; failedReason: string }[] }[] };
    const shown = queues.find((q) => q.name === 'default')?.jobs.find((job) => job.id === ids[1]);
    expect(shown, `the Failed tab of default should list job ${ids[1]}`).toBeDefined();
    expect(shown!.data).toEqual({ to: to(2), name: 'Grace' });
    expect(shown!.failedReason).toMatch(/ECONNREFUSED/);
  });

  it("`jobs 7 requeue` and the page's Retry send dead emails again: your worker delivers them (TODO 3)", async () => {
    await endToEnd();
    explainOutput(worker, 'your worker wrote');
    explainInbox(inbox, (mail) => mail.to.some((address) => address.startsWith(`ex07-${tag}-`)));

    const requeued = await requeue;
    explain(`node --import tsx workshop/run.ts jobs 7 requeue default ${ids[2]} printed`, () => requeued.output);
    expect(requeued.code, '`jobs 7 requeue` should exit 0').toBe(0);
    expect(requeued.output).toContain(`re-queued job ${ids[2]} in default`);

    const retry = await fetch(`${baseUrl}${PAGE}/api/queues/default/${ids[1]}/retry`, { method: 'PUT', headers: basic('ops', PASSWORD) });
    expect(retry.status, "the page's Retry should answer 204").toBe(204);
    await Promise.all([inbox.waitFor((mail) => mail.to.includes(to(3)), 20_000), inbox.waitFor((mail) => mail.to.includes(to(2)), 20_000)]);

    // The page's Retry keeps the attempts made (the README's 🦉): 1 before, 2 now.
    const state = (id: string) => e2e.client.queue('default').getJobState(id);
    await waitUntil('both jobs to complete', async () => (await state(ids[1]!)) === 'completed' && (await state(ids[2]!)) === 'completed', 5_000);
    expect((await e2e.client.queue('default').getJob(ids[1]!))?.attemptsMade, "after the page's Retry, the job counts 2 attempts made").toBe(2);

    // The page's throughput chart: workers count the jobs they finish, per minute (BullMQ's metrics).
    const res = await fetch(`${baseUrl}${PAGE}/api/queues/default/metrics`, { headers: basic('ops', PASSWORD) });
    const metrics = (await res.json()) as Record<'completed' | 'failed', { meta?: { count?: number } } | null>;
    explain('the throughput chart of default', () => JSON.stringify(metrics));
    expect(metrics.failed?.meta?.count, 'the chart counts the three emails that died').toBe(3);
    expect(metrics.completed?.meta?.count, 'and the two that your worker sent').toBe(2);
  });
});
