// Exercise 11: one pass of the outbox relay hands a batch of saved jobs to
// Redis, each with its due time and a job id of its own, and marks the rows
// sent only once Redis has them, so nothing is lost in an outage.
import { randomInt } from 'node:crypto';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wireApi, type ApiParts } from '../../src/api/wiring.ts';
import type { Db } from '../../src/db/database.ts';
import type { OutboxRepo } from '../../src/db/outbox.ts';
import { QUEUES } from '../../src/jobs/defaults.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { OutboxWriter } from '../../src/jobs/outbox.ts';
import { relayPass, type RelayPass } from '../../src/jobs/relay-pass.ts';
import { REVIEW_REQUEST_DELAY_MS } from '../../src/services/orders.ts';
import { explain, explainInbox, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks } from '../support/course/exercise.ts';
import { startLearnerApp, untilUp } from '../support/course/learner-app.ts';
import { captureLog, formatLogLines, type LogCapture } from '../support/course/log.ts';
import { createInbox } from '../support/services/inbox.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';

/** RETRY_MS: how often the in-process relay tries again while Redis is down. */
const RETRY_MS = 100;
const DAY_MS = 24 * 60 * 60 * 1_000;

interface OutboxRow {
  id: number;
  task: string;
  run_at: number;
  sent_at: number | null;
  dead_at: number | null;
  attempts: number;
  last_error: string | null;
}

/** rowsOf reads an order's outbox rows, oldest first. */
function rowsOf(db: Db, orderId: number): OutboxRow[] {
  return db
    .prepare<[number], OutboxRow>(
      "SELECT id, task, run_at, sent_at, dead_at, attempts, last_error FROM outbox WHERE json_extract(payload, '$.order_id') = ? ORDER BY id",
    )
    .all(orderId);
}

function describeRows(rows: OutboxRow[]): string {
  if (rows.length === 0) return '(no rows)';
  return rows
    .map((row) => {
      const sent = row.dead_at !== null ? 'DEAD (set aside, never sent)' : row.sent_at === null ? 'NOT SENT' : 'sent';
      const error = row.last_error ? `, last error: ${row.last_error}` : '';
      return `row ${row.id} ${row.task}: ${sent}, due ${new Date(row.run_at).toISOString()}, ${row.attempts} failed tries${error}`;
    })
    .join('\n');
}

// A Redis of this file's own, since the checks stop it and start it again.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.stop());

/** A shop: the API's object graph (wired as cmd/api.ts does) on an in-memory database, with its log kept. */
interface Shop extends ApiParts {
  log: LogCapture;
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }>;
  /** jobsOf finds an order's jobs in every queue and state, by payload. */
  jobsOf(orderId: number): Promise<Job[]>;
  /** writeOrderJobs writes an order's three jobs to the outbox, as OrderService does, without kicking the relay. */
  writeOrderJobs(orderId: number, placedAt?: number): void;
}

// A failed test's evidence is read after its afterEach hooks, so each shop is
// closed before the next test, or at the end.
const shops: Shop[] = [];
async function closeShops(): Promise<void> {
  await Promise.all(shops.splice(0).map((shop) => shop.close()));
}
beforeEach(closeShops);
afterAll(closeShops);

async function openShop(): Promise<Shop> {
  await redis.start(); // in case a check before left it stopped
  const log = captureLog();
  const config = { env: 'test', admin: { user: 'admin', password: undefined }, databasePath: ':memory:', redisUrl: redis.url, queuePrefix: uniquePrefix('ex11') } as const;
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
    writeOrderJobs(orderId, placedAt = Date.now()) {
      const writer = new OutboxWriter(parts.outbox, () => placedAt);
      parts.db.transaction(() => {
        writer.enqueue('send_receipt', { order_id: orderId });
        writer.enqueue('update_inventory', { order_id: orderId });
        writer.enqueueIn('ask_for_review', { order_id: orderId }, REVIEW_REQUEST_DELAY_MS);
      })();
    },
  };
  shops.push(shop);
  await waitUntil('the connection to Redis', () => parts.redis.status === 'ready');
  return shop;
}

/** explainShop shows, if the check fails, the order's outbox rows and its jobs in Redis. */
function explainShop(shop: Shop, orderId: number) {
  // The verdict shows these last first.
  explain('the jobs in Redis for this order', async () => {
    const jobs = await shop.jobsOf(orderId);
    if (jobs.length === 0) return 'none';
    const lines = await Promise.all(
      jobs.map(async (job) => `job ${job.id} ${job.name}: ${await job.getState()}, due ${new Date(job.timestamp + job.delay).toISOString()}`),
    );
    return lines.join('\n');
  });
  explain("the order's rows in the outbox", () => describeRows(rowsOf(shop.db, orderId)));
}

function describePass(pass: RelayPass | undefined): string {
  return pass === undefined ? 'nothing yet' : JSON.stringify(pass);
}

describe('relayPass', () => {
  it('while Redis is down, a pass marks no row sent: it marks the first row failed and returns the error; the next pass sends the rows (TODO 1)', async () => {
    const shop = await openShop();
    const orderId = randomInt(1_000, 1_000_000);
    explainShop(shop, orderId);
    let pass: RelayPass | undefined;
    explain('relayPass returned', () => describePass(pass));
    shop.writeOrderJobs(orderId);

    await redis.stop();
    try {
      await waitUntil('the connection to notice that Redis is down', () => shop.redis.status !== 'ready', 5_000);
      pass = await relayPass(shop.outbox, shop.jobs, Date.now);
      const rows = rowsOf(shop.db, orderId);
      const marked = rows.filter((row) => row.sent_at !== null);
      expect(
        marked.map((row) => `row ${row.id} ${row.task}`),
        "Redis is down, so no job reached it, yet these rows are marked sent: they are lost, as with the lesson's `_ =`. Mark the rows sent only once sendBatch has resolved",
      ).toEqual([]);
      expect(
        rows.map((row) => row.attempts),
        'the pass should keep the rows pending, with one failed try on the first (outbox.markFailed): the next pass sends them again, in order. Failed tries per row, oldest first',
      ).toEqual([1, 0, 0]);
      expect(pass.error, 'relayPass should return the error that stopped it, as { sent: 0, dead: [], error }: OutboxRelay waits for it to try again later').toEqual(expect.any(String));
      expect(pass.sent, 'relayPass should return how many rows it sent: none').toBe(0);
    } finally {
      await redis.start();
    }

    await waitUntil('the connection to Redis to be back', () => shop.redis.status === 'ready', 5_000);
    pass = await relayPass(shop.outbox, shop.jobs, Date.now);
    expect(pass, 'with Redis back, the next pass should send the three rows').toEqual({ sent: 3, dead: [] });
    expect(rowsOf(shop.db, orderId).every((row) => row.sent_at !== null), 'with Redis back, every row should be marked sent').toBe(true);
    expect((await shop.jobsOf(orderId)).map((job) => job.name).sort(), 'each job should reach Redis once').toEqual(['ask_for_review', 'send_receipt', 'update_inventory']);
  });

  it('relayed 3 days late, a review request is still due 7 days after the order, and an overdue receipt goes out now (TODO 2)', async () => {
    const shop = await openShop();
    const orderId = randomInt(1_000, 1_000_000);
    explainShop(shop, orderId);

    // The order was placed 3 days ago, while Redis was down; it is back only now.
    const placedAt = Date.now() - 3 * DAY_MS;
    shop.writeOrderJobs(orderId, placedAt);
    await relayPass(shop.outbox, shop.jobs, Date.now);

    const jobs = await shop.jobsOf(orderId);
    const receipt = jobs.find((job) => job.name === 'send_receipt');
    const review = jobs.find((job) => job.name === 'ask_for_review');
    const rows = rowsOf(shop.db, orderId);
    expect(receipt, `the receipt did not reach Redis. Its outbox row: ${describeRows(rows.slice(0, 1))}`).toBeDefined();
    expect(await receipt!.getState(), 'the receipt was due 3 days ago: it should go out now, not wait').toBe('waiting');
    expect(review, `the review request did not reach Redis. Its outbox row: ${describeRows(rows.slice(2))}`).toBeDefined();
    expect(await review!.getState(), 'the review request is due in 4 days: its job should be delayed').toBe('delayed');
    const due = review!.timestamp + review!.delay;
    const days = (due - placedAt) / DAY_MS;
    expect(Math.abs(due - (placedAt + REVIEW_REQUEST_DELAY_MS)), `the review request is due ${days.toFixed(2)} days after the order; it should be 7 (its row's runAt)`).toBeLessThan(5_000);
  });

  it("sends an order's jobs to Redis as jobs outbox-<row id>, and marks the rows sent (TODO 3)", async () => {
    const shop = await openShop();
    const { status, body } = await shop.post('/api/orders', { user_id: 1, sku: 'mug', quantity: 1 });
    expect(status, `POST /api/orders should answer 201; it answered ${status}: ${JSON.stringify(body)}`).toBe(201);
    const orderId = body.order.id as number;
    explainShop(shop, orderId);
    await shop.relay.idle();

    const rows = rowsOf(shop.db, orderId);
    expect(rows.filter((row) => row.sent_at === null), 'with Redis up, every row should be sent and marked sent').toEqual([]);
    for (const row of rows) {
      const job = await shop.jobs.queue('default').getJob(`outbox-${row.id}`);
      expect(job, `no job with the id outbox-${row.id} in Redis for outbox row ${row.id} (${row.task}): give each job the id of its row`).toBeDefined();
      expect(job!.name, `job outbox-${row.id} should be row ${row.id}'s task`).toBe(row.task);
    }
  });

  it('sends a batch twice as one job per row: the process died after Redis took the jobs, before the rows were marked sent (TODO 3)', async () => {
    const shop = await openShop();
    const orderId = randomInt(1_000, 1_000_000);
    explainShop(shop, orderId);
    shop.writeOrderJobs(orderId);

    // The first pass dies right after Redis took the jobs: the rows are never marked sent.
    const dying: OutboxRepo = Object.create(shop.outbox);
    dying.markAllSent = () => {
      throw new Error('the process died here');
    };
    await relayPass(dying, shop.jobs, Date.now).catch(() => {});
    expect(
      rowsOf(shop.db, orderId).map((row) => row.sent_at),
      'the rows should still look unsent after the crash',
    ).toEqual([null, null, null]);

    // The restarted process sends them again.
    await relayPass(shop.outbox, shop.jobs, Date.now);
    const jobs = await shop.jobsOf(orderId);
    expect(
      jobs.map((job) => `${job.name} (job ${job.id})`).sort(),
      "the order's rows went to Redis twice: the second send should add no job. The same row, the same job id",
    ).toEqual(rowsOf(shop.db, orderId).map((row) => `${row.task} (job outbox-${row.id})`).sort());
  });
});

describe('your API and worker, through a Redis outage', () => {
  const inbox = createInbox(services());
  let api: ChildScript;
  let worker: ChildScript;
  let baseUrl: string;
  let db: Db;
  let queuePrefix: string;
  let client: JobsClient | undefined;

  // Your processes start once the checks above pass (see afterEarlierChecks).
  const endToEnd = afterEarlierChecks(async () => {
    await redis.start();
    let env: Record<string, string>;
    ({ api, worker, baseUrl, db, env } = await startLearnerApp('ex11', redis.url));
    queuePrefix = env.QUEUE_PREFIX!;
    await untilUp(api, worker);
  });
  afterAll(async () => {
    await stopAll();
    await client?.close();
    db?.close();
  });

  it('an order placed while Redis is down answers 201, and once Redis is back its receipt arrives, once (TODO 1)', async () => {
    await endToEnd();
    explain('the jobs your worker ran', () => {
      const lines = worker.output().split('\n').filter((line) => line.includes('"job":'));
      return lines.length === 0 ? '(none)' : formatLogLines(lines.slice(-20));
    });
    explainOutput(api, 'your API wrote');
    explainInbox(inbox, (mail) => mail.to.includes('grace@example.test'));
    let orderId: number | undefined;
    explain("the order's rows in the outbox", () => (orderId === undefined ? 'no order yet' : describeRows(rowsOf(db, orderId))));

    await redis.stop();
    const res = await fetch(`${baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 2, sku: 'tee', quantity: 1 }),
    });
    const answer = (await res.json()) as Record<string, any>;
    expect(res.status, `POST /api/orders should answer 201 while Redis is down; it answered ${res.status}: ${JSON.stringify(answer)}`).toBe(201);
    const id = (orderId = answer.order.id as number);
    // The order kicks the relay at once: its first try fails, and the rows wait.
    await waitUntil("your API's first try to send the order's jobs", () => (rowsOf(db, id)[0]?.attempts ?? 0) > 0, 5_000);
    expect(rowsOf(db, id).every((row) => row.sent_at === null), 'Redis is down: no row may be marked sent').toBe(true);
    await redis.start();

    // No kick from here: the relay tries again every second, and the worker reconnects.
    await waitUntil('your API to send the jobs once Redis is back', () => rowsOf(db, id).every((row) => row.sent_at !== null), 20_000);
    const review = rowsOf(db, id).find((row) => row.task === 'ask_for_review')!;
    client = new JobsClient(redisConnection({ redisUrl: redis.url }), { prefix: queuePrefix });
    const job = await client.queue('default').getJob(`outbox-${review.id}`);
    expect(job, `the review request should be in Redis as job outbox-${review.id}`).toBeDefined();
    expect(await job!.getState(), 'the review request is due in 7 days: it should wait in Redis as a delayed job').toBe('delayed');

    await inbox.waitFor((m) => m.subject === `Your receipt for order #${id}`, 30_000);
    await waitUntil(
      'the worker to update the stock for the order',
      () => db.prepare<[number], { done: string | null }>('SELECT inventory_updated_at AS done FROM orders WHERE id = ?').get(id)?.done ?? false,
      15_000,
    );
    const receipts = (await inbox.list()).filter((m) => m.subject === `Your receipt for order #${id}`);
    expect(receipts, 'the receipt should arrive once').toHaveLength(1);
    expect(receipts[0]!.to).toEqual(['grace@example.test']);
  });
});
