// Exercise 11: the outbox relay hands each saved job to Redis once, with its
// due time, and waits out a Redis outage without losing or doubling a job.
import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wireApi, type ApiParts } from '../../src/api/wiring.ts';
import type { Db } from '../../src/db/database.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { QUEUES } from '../../src/jobs/defaults.ts';
import { OutboxRelay, OutboxWriter } from '../../src/jobs/outbox.ts';
import { REVIEW_REQUEST_DELAY_MS } from '../../src/services/orders.ts';
import { explain, explainInbox, explainLog, explainOutput } from '../course/evidence.ts';
import { afterEarlierChecks, startProcess } from '../course/exercise.ts';
import { captureLog, formatLogLines, type LogCapture } from '../course/log.ts';
import { createInbox } from '../harness/inbox.ts';
import { stopAll, type ChildScript } from '../harness/process.ts';
import { startRedisServer, type RedisServer } from '../harness/redis-server.ts';
import { services, uniquePrefix } from '../harness/services.ts';
import { waitUntil } from '../support/wait.ts';
import { prepareDatabase } from '../support/database.ts';

/** RETRY_MS: how often the relay under test tries again while Redis is down. */
const RETRY_MS = 100;
const DAY_MS = 24 * 60 * 60 * 1_000;

interface OutboxRow {
  id: number;
  task: string;
  payload: string;
  run_at: number;
  sent_at: number | null;
  attempts: number;
  last_error: string | null;
}

/** rowsOf reads an order's outbox rows, oldest first. */
function rowsOf(db: Db, orderId: number): OutboxRow[] {
  return db
    .prepare<[number], OutboxRow>(
      "SELECT id, task, payload, run_at, sent_at, attempts, last_error FROM outbox WHERE json_extract(payload, '$.order_id') = ? ORDER BY id",
    )
    .all(orderId);
}

function describeRows(rows: OutboxRow[]): string {
  if (rows.length === 0) return '(no rows)';
  return rows
    .map((row) => {
      const sent = row.sent_at === null ? 'NOT SENT' : 'sent';
      const error = row.last_error ? `, last error: ${row.last_error}` : '';
      return `row ${row.id} ${row.task}: ${sent}, due ${new Date(row.run_at).toISOString()}, ${row.attempts} failed tries${error}`;
    })
    .join('\n');
}

/** A shop: the API's object graph (wired as cmd/api.ts does) on an in-memory database, with its log kept. */
interface Shop extends ApiParts {
  log: LogCapture;
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }>;
  /** jobsOf finds an order's jobs in every queue and state, by payload. */
  jobsOf(orderId: number): Promise<Job[]>;
}

// A failed test's evidence is read after its afterEach hooks, so each shop is
// closed before the next test, or at the end.
const shops: Shop[] = [];
async function closeShops(): Promise<void> {
  await Promise.all(shops.splice(0).map((shop) => shop.close()));
}
beforeEach(closeShops);
afterAll(closeShops);

function openShop(redisUrl: string): Shop {
  const log = captureLog();
  const config = { env: 'test', admin: { user: 'admin', password: undefined }, databasePath: ':memory:', redisUrl, queuePrefix: uniquePrefix('ex11') } as const;
  const parts = wireApi(config, log.logger, { relayRetryMs: RETRY_MS });
  const shop: Shop = {
    ...parts,
    log,
    async post(path, body) {
      const res = await parts.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    },
    async jobsOf(orderId) {
      const lists = await Promise.all(QUEUES.map((queue) => parts.jobs.queue(queue).getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'], 0, -1)));
      return lists.flat().filter((job) => job.data?.order_id === orderId);
    },
  };
  shops.push(shop);
  return shop;
}

/** explainShop shows, if the test fails, the order's outbox rows and its jobs in Redis. */
function explainShop(shop: Shop, orderId: () => number | undefined) {
  // The verdict shows these last first.
  explain('the jobs in Redis for this order', async () => {
    const id = orderId();
    if (id === undefined) return 'no order yet';
    const jobs = await shop.jobsOf(id);
    if (jobs.length === 0) return 'none';
    const lines = await Promise.all(
      jobs.map(async (job) => `job ${job.id} ${job.name}: ${await job.getState()}, due ${new Date(job.timestamp + job.delay).toISOString()}`),
    );
    return lines.join('\n');
  });
  explain("the order's rows in the outbox", () => {
    const id = orderId();
    return id === undefined ? 'no order yet' : describeRows(rowsOf(shop.db, id));
  });
}

/** expectAllSent checks that every row reached Redis, and shows the ones that did not, with their errors. */
function expectAllSent(rows: OutboxRow[]): void {
  const unsent = rows.filter((row) => row.sent_at === null);
  expect(unsent.length, `with Redis up, every row should be sent and marked sent. Not sent:\n${describeRows(unsent)}`).toBe(0);
}

async function placeOrder(shop: Shop, body = { user_id: 1, sku: 'mug', quantity: 1 }): Promise<number> {
  const { status, body: answer } = await shop.post('/api/orders', body);
  expect(status, `POST /api/orders should answer 201; it answered ${status}: ${JSON.stringify(answer)}`).toBe(201);
  return answer.order.id as number;
}

describe('OutboxRelay', () => {
  // A Redis of this file's own, since one test stops it.
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  async function readyShop(): Promise<Shop> {
    await redis.start(); // in case a test before left it stopped
    const shop = openShop(redis.url);
    await waitUntil('the connection to Redis', () => shop.redis.status === 'ready');
    return shop;
  }

  it('relayed late, a review request is still due 7 days after the order, and an overdue receipt goes out now (TODO 1)', async () => {
    const shop = await readyShop();
    const orderId = randomInt(1_000, 1_000_000);
    explainShop(shop, () => orderId);

    // The order was placed 3 days ago, while Redis was down; it is back only now.
    const placedAt = Date.now() - 3 * DAY_MS;
    const writer = new OutboxWriter(shop.outbox, () => placedAt);
    shop.db.transaction(() => {
      writer.enqueue('send_receipt', { order_id: orderId });
      writer.enqueueIn('ask_for_review', { order_id: orderId }, REVIEW_REQUEST_DELAY_MS);
    })();
    shop.relay.kick();
    await shop.relay.idle();

    const jobs = await shop.jobsOf(orderId);
    const receipt = jobs.find((job) => job.name === 'send_receipt');
    const review = jobs.find((job) => job.name === 'ask_for_review');
    const rows = rowsOf(shop.db, orderId);
    expect(receipt, `the receipt did not reach Redis. Its outbox row: ${describeRows(rows.slice(0, 1))}`).toBeDefined();
    expect(await receipt!.getState(), 'the receipt was due 3 days ago: it should go out now, not wait').toBe('waiting');
    expect(review, `the review request did not reach Redis. Its outbox row: ${describeRows(rows.slice(1))}`).toBeDefined();
    expect(await review!.getState(), 'the review request is due in 4 days: its job should be delayed').toBe('delayed');
    const due = review!.timestamp + review!.delay;
    const days = (due - placedAt) / DAY_MS;
    expect(Math.abs(due - (placedAt + REVIEW_REQUEST_DELAY_MS)), `the review request is due ${days.toFixed(2)} days after the order; it should be 7 (its row's runAt)`).toBeLessThan(5_000);
  });

  it("sends an order's jobs to Redis as jobs outbox-<row id>, and marks the rows sent (TODO 2)", async () => {
    const shop = await readyShop();
    let orderId: number | undefined;
    explainShop(shop, () => orderId);

    orderId = await placeOrder(shop);
    await shop.relay.idle();

    const rows = rowsOf(shop.db, orderId);
    expect(rows.map((row) => row.task), 'the order writes its three jobs to the outbox').toEqual(['send_receipt', 'update_inventory', 'ask_for_review']);
    expectAllSent(rows);
    for (const row of rows) {
      const job = await shop.jobs.queue('default').getJob(`outbox-${row.id}`);
      expect(job, `no job with the id outbox-${row.id} in Redis for outbox row ${row.id} (${row.task}): give each job the id of its row`).toBeDefined();
      expect(job!.name, `job outbox-${row.id} should be row ${row.id}'s task`).toBe(row.task);
    }
  });

  it('sends a row that is relayed twice as one job: the process died before it marked the row sent (TODO 2)', async () => {
    const shop = await readyShop();
    let orderId: number | undefined;
    explainShop(shop, () => orderId);

    orderId = await placeOrder(shop);
    await shop.relay.idle();
    expectAllSent(rowsOf(shop.db, orderId));
    expect(await shop.jobsOf(orderId), 'the order should have made three jobs').toHaveLength(3);

    // As if the API died between enqueueIn and markSent: the rows look unsent,
    // and the relay of the restarted process sends them again.
    shop.db.prepare("UPDATE outbox SET sent_at = NULL WHERE json_extract(payload, '$.order_id') = ?").run(orderId);
    const restarted = new OutboxRelay(shop.outbox, shop.jobs, shop.log.logger, { retryMs: RETRY_MS });
    restarted.kick();
    await restarted.idle();
    await restarted.stop();

    expectAllSent(rowsOf(shop.db, orderId));
    const jobs = await shop.jobsOf(orderId);
    expect(jobs.map((job) => job.name).sort(), 'sending the same rows again should add no job: the same row, the same job id').toEqual([
      'ask_for_review',
      'send_receipt',
      'update_inventory',
    ]);
  });

  it('while Redis is down, orders still answer 201 and their jobs wait; the relay warns once, keeps trying, and each job arrives once when Redis is back (TODO 3)', async () => {
    const shop = await readyShop();
    let orderId: number | undefined;
    explainShop(shop, () => orderId);
    explainLog('the relay logged', shop.log.lines);

    // First an order while Redis is up, as on any day.
    await placeOrder(shop);
    await shop.relay.idle();

    await redis.stop();
    try {
      orderId = await placeOrder(shop, { user_id: 2, sku: 'tee', quantity: 1 });
      const id = orderId;

      await waitUntil(
        `the relay to try again while Redis is down (the first row's failed tries to reach 3; one pass every ${RETRY_MS} ms)`,
        () => (rowsOf(shop.db, id)[0]?.attempts ?? 0) >= 3,
        5_000,
      );
      const rows = rowsOf(shop.db, id);
      expect(rows.every((row) => row.sent_at === null), 'nothing can be sent while Redis is down: every row should wait').toBe(true);
      expect(
        rows.slice(1).map((row) => row.attempts),
        'a pass should stop at the first row that fails: the rows behind it wait their turn, so the jobs still go out in order',
      ).toEqual([0, 0]);
      const warnings = shop.log.lines().filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
      expect(warnings, `the relay should warn once per outage, not on every try; it warned ${warnings.length} times`).toHaveLength(1);
    } finally {
      await redis.start();
      // So that a failure's evidence can read the queues.
      await waitUntil('the connection to Redis to be back', () => shop.redis.status === 'ready', 5_000).catch(() => {});
    }

    // No kick: the relay's own retry must bring the jobs out.
    const id = orderId;
    await waitUntil('the outbox to empty once Redis is back', () => rowsOf(shop.db, id).every((row) => row.sent_at !== null), 15_000);
    const jobs = await shop.jobsOf(id);
    expect(jobs.map((job) => job.name).sort(), 'each job should arrive exactly once').toEqual(['ask_for_review', 'send_receipt', 'update_inventory']);
  });
});


describe('your API and worker, through a Redis outage', () => {
  const inbox = createInbox(services());
  let redis: RedisServer;
  let api: ChildScript;
  let worker: ChildScript;
  let baseUrl: string;
  let db: Db;
  let env: Record<string, string>;

  // Your processes start once the checks above pass (see afterEarlierChecks).
  const endToEnd = afterEarlierChecks(async () => {
    // A Redis of this story's own, to stop and start.
    redis = await startRedisServer();
    const dir = mkdtempSync(join(tmpdir(), 'ex11-'));
    const databasePath = join(dir, 'shop.db');
    db = prepareDatabase(databasePath);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      REDIS_URL: redis.url,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: uniquePrefix('ex11-e2e'),
      DATABASE_PATH: databasePath,
      UPLOADS_DIR: join(dir, 'uploads'),
    };
    api = startProcess('api', env);
    worker = startProcess('worker', env);
    await Promise.all([api.waitForOutput(/API listening/, 45_000), worker.waitForOutput(/worker started/, 45_000)]);
  });
  afterAll(async () => {
    await stopAll();
    db?.close();
    await redis?.stop();
  });

  async function postOrder(): Promise<number> {
    const res = await fetch(`${baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 2, sku: 'tee', quantity: 1 }),
    });
    const answer = (await res.json()) as Record<string, any>;
    expect(res.status, `POST /api/orders should answer 201, Redis up or down; it answered ${res.status}: ${JSON.stringify(answer)}`).toBe(201);
    return answer.order.id as number;
  }

  const receiptsOf = async (orderId: number) => (await inbox.list()).filter((m) => m.subject === `Your receipt for order #${orderId}`);

  it('an order, then stop Redis, another order, start Redis: its receipt arrives, once (TODO 3)', async () => {
    await endToEnd();
    // While Redis is down the worker logs a reconnect error every second: show only its jobs.
    explain('the jobs your worker ran', () => {
      const lines = worker.output().split('\n').filter((line) => line.includes('"job":'));
      return lines.length === 0 ? '(none)' : formatLogLines(lines.slice(-20));
    });
    explainOutput(api, 'your API wrote');
    explainInbox(inbox, (mail) => mail.to.includes('grace@example.test'));
    let orderId: number | undefined;
    explain("the second order's rows in the outbox", () => (orderId === undefined ? 'no order yet' : describeRows(rowsOf(db, orderId))));

    // First an order while Redis is up, as on any day.
    const first = await postOrder();
    await inbox.waitFor((m) => m.subject === `Your receipt for order #${first}`, 30_000);

    await redis.stop();
    orderId = await postOrder();
    const id = orderId;
    // The API's relay tries again every second while Redis is down.
    await waitUntil("your API to try the order's jobs again while Redis is down", () => (rowsOf(db, id)[0]?.attempts ?? 0) >= 2, 8_000);
    await redis.start();

    await waitUntil('your API to send the jobs once Redis is back', () => rowsOf(db, id).every((row) => row.sent_at !== null), 20_000);
    await inbox.waitFor((m) => m.subject === `Your receipt for order #${id}`, 30_000);
    await waitUntil(
      'the worker to update the stock for the order',
      () => db.prepare<[number], { done: string | null }>('SELECT inventory_updated_at AS done FROM orders WHERE id = ?').get(id)?.done ?? false,
      15_000,
    );
    const receipts = await receiptsOf(id);
    expect(receipts, 'the receipt should arrive exactly once').toHaveLength(1);
    expect(receipts[0]!.to).toEqual(['grace@example.test']);

    // The review request went out after the outage, yet it is due 7 days after the order.
    const review = rowsOf(db, id).find((row) => row.task === 'ask_for_review');
    expect(review, 'the order should have written an ask_for_review row').toBeDefined();
    const show = startProcess('jobs', env, ['show', 'default', `outbox-${review!.id}`]);
    explainOutput(show, `node --import tsx workshop/run.ts jobs 11 show default outbox-${review!.id}`);
    expect((await show.exited).code, 'the jobs inspector should find the review request').toBe(0);
    expect(show.output()).toMatch(/task\s+ask_for_review/);
    expect(show.output(), 'it should still be due about a week from now').toMatch(/\(in 6d 23h|\(in 7d/);
  });
});
