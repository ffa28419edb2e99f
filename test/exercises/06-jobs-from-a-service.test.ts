// Exercise 06: OrderService.create saves the order, then three jobs: a receipt and
// an inventory update now, a review request in 7 days.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { QUEUES } from '../../src/jobs/defaults.ts';
import { REVIEW_REQUEST_DELAY_MS } from '../../src/services/orders.ts';
import { explain, explainInbox, explainOutput } from '../support/course/evidence.ts';
import { afterEarlierChecks, startProcess } from '../support/course/exercise.ts';
import { startLearnerApp, untilUp } from '../support/course/learner-app.ts';
import { failOnServerError } from '../support/course/server-error.ts';
import { createInbox } from '../support/services/inbox.ts';
import { stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

const TASKS = ['send_receipt', 'update_inventory', 'ask_for_review'] as const;

// The API in this test process, with your orders.ts, on its own queues.
const prefix = uniquePrefix('ex06');
let bed: ReturnType<typeof apiTestbed>;
beforeAll(async () => {
  bed = apiTestbed({ redisUrl: services().redisUrl, prefix });
  await waitUntil('the connection to Redis', () => bed.redis.status === 'ready');
});
afterAll(() => bed?.close());

/** placeOrder posts an order to the API in this process, waits until its jobs are handed to Redis, and returns its id. */
async function placeOrder(body: { user_id: number; sku: string; quantity: number }) {
  const placed = await bed.post('/api/orders', body);
  // A bad payload in create() throws, and the route answers 500: show that error, not the answer.
  failOnServerError('POST /api/orders', placed);
  const { status, body: answer } = placed;
  expect(status, `POST /api/orders should answer 201; it answered ${status}: ${JSON.stringify(answer)}`).toBe(201);
  // create() kicks the outbox relay; wait until it has passed the jobs on to Redis.
  await bed.relay.idle();
  return answer.order as { id: number; inventoryUpdatedAt: string | null };
}

describe('OrderService.create, through POST /api/orders', () => {
  /** jobsOf finds the order's jobs in every queue and state, by their payload. */
  async function jobsOf(orderId: number): Promise<Job[]> {
    const lists = await Promise.all(QUEUES.map((queue) => bed.jobs.queue(queue).getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'], 0, -1)));
    return lists.flat().filter((job) => job.data?.order_id === orderId);
  }

  async function jobOf(orderId: number, task: string): Promise<Job | undefined> {
    return (await jobsOf(orderId)).find((job) => job.name === task);
  }

  /** explainOrder shows, if the test fails, what the order wrote and what reached Redis. */
  function explainOrder(orderId: () => number | undefined) {
    // The verdict shows these last first.
    explain('the jobs in Redis for this order', async () => {
      const id = orderId();
      if (id === undefined) return 'no order was placed';
      const jobs = await jobsOf(id);
      if (jobs.length === 0) return `none for order ${id}`;
      const lines = await Promise.all(
        jobs.map(async (job) => `${job.name} in "${job.queueName}": ${await job.getState()}, due ${new Date(job.timestamp + job.delay).toISOString()}`),
      );
      return lines.join('\n');
    });
    explain('the jobs this order wrote (the outbox rows)', () => {
      const id = orderId();
      if (id === undefined) return 'no order was placed';
      const rows = bed.db
        .prepare<[number], { id: number; task: string; payload: string; run_at: number }>(
          "SELECT id, task, payload, run_at FROM outbox WHERE json_extract(payload, '$.order_id') = ? ORDER BY id",
        )
        .all(id);
      if (rows.length === 0) return `none: create() wrote no job for order ${id}`;
      return rows.map((row) => `${row.task} ${row.payload}, due ${new Date(row.run_at).toISOString()}`).join('\n');
    });
  }

  it('puts a send_receipt job for the order on the queue, due now (TODO 1)', async () => {
    let orderId: number | undefined;
    explainOrder(() => orderId);

    ({ id: orderId } = await placeOrder({ user_id: 1, sku: 'mug', quantity: 2 }));

    const job = await jobOf(orderId, 'send_receipt');
    expect(job, `no send_receipt job for order ${orderId}: enqueue it in create()`).toBeDefined();
    expect(job!.data, "the job's payload should be { order_id }").toEqual({ order_id: orderId });
    expect(await job!.getState(), 'the receipt should go out now: its job should be waiting for a worker, not delayed').toBe('waiting');
  });

  it('puts an update_inventory job for the order on the queue, due now (TODO 2)', async () => {
    let orderId: number | undefined;
    explainOrder(() => orderId);

    ({ id: orderId } = await placeOrder({ user_id: 2, sku: 'tee', quantity: 1 }));

    const job = await jobOf(orderId, 'update_inventory');
    expect(job, `no update_inventory job for order ${orderId}: enqueue it in create()`).toBeDefined();
    expect(job!.data, "the job's payload should be { order_id }").toEqual({ order_id: orderId });
    expect(await job!.getState(), 'the stock should be updated now: the job should be waiting for a worker, not delayed').toBe('waiting');
  });

  it('puts an ask_for_review job for the order on the queue, due 7 days after the order (TODO 3)', async () => {
    let orderId: number | undefined;
    explainOrder(() => orderId);

    const before = Date.now();
    ({ id: orderId } = await placeOrder({ user_id: 3, sku: 'sticker', quantity: 5 }));
    const after = Date.now();

    const job = await jobOf(orderId, 'ask_for_review');
    expect(job, `no ask_for_review job for order ${orderId}: enqueue it in create(), with a delay`).toBeDefined();
    expect(job!.data, "the job's payload should be { order_id }").toEqual({ order_id: orderId });
    expect(await job!.getState(), 'the review request should wait 7 days: its job should be delayed').toBe('delayed');
    // Due time = when the job was added + its delay. Never wait 7 days: read it.
    const due = job!.timestamp + job!.delay;
    const days = (due - before) / 86_400_000;
    expect(due, `the review request is due ${days.toFixed(3)} days after the order; it should be 7 (REVIEW_REQUEST_DELAY_MS)`).toBeGreaterThanOrEqual(before + REVIEW_REQUEST_DELAY_MS - 1_000);
    expect(due, `the review request is due ${days.toFixed(3)} days after the order; it should be 7 (REVIEW_REQUEST_DELAY_MS)`).toBeLessThanOrEqual(after + REVIEW_REQUEST_DELAY_MS + 5_000);
  });

  it('answers 201 without waiting for any job: all three wait in the queue, none has run (TODO 1, 2, 3)', async () => {
    let orderId: number | undefined;
    explainOrder(() => orderId);

    // No worker runs in this test: a create() that waited for its jobs would never answer.
    const order = await placeOrder({ user_id: 1, sku: 'sticker', quantity: 1 });
    orderId = order.id;
    expect(order.inventoryUpdatedAt, 'the answer comes before update_inventory has run').toBeNull();

    const jobs = await jobsOf(orderId);
    expect(jobs.map((job) => job.name).sort(), `order ${orderId} should have made exactly these three jobs`).toEqual([...TASKS].sort());
    const states = await Promise.all(jobs.map((job) => job.getState()));
    expect(states.every((state) => state === 'waiting' || state === 'delayed'), `the jobs should all still wait for a worker; they are ${states.join(', ')}`).toBe(true);
  });
});


describe('your API and worker, end to end', () => {
  const inbox = createInbox(services());
  let api: ChildScript;
  let worker: ChildScript;
  let baseUrl: string;
  let db: Db;
  let env: Record<string, string>;
  let show: ChildScript | undefined;
  let showCommand = '';

  // Your processes start once the checks above pass (see afterEarlierChecks).
  const endToEnd = afterEarlierChecks(async () => {
    ({ api, worker, baseUrl, db, env } = await startLearnerApp('ex06'));

    // The jobs inspector starts with them, on an order placed through the API
    // in this process (the same orders.ts), so that it need not wait for yours.
    const order = await placeOrder({ user_id: 1, sku: 'sticker', quantity: 1 });
    const review = bed.db
      .prepare<[number], { id: number }>("SELECT id FROM outbox WHERE task = 'ask_for_review' AND json_extract(payload, '$.order_id') = ?")
      .get(order.id);
    if (review) {
      showCommand = `node --import tsx workshop/run.ts jobs 6 show default outbox-${review.id}`;
      show = startProcess('jobs', { ...env, QUEUE_PREFIX: prefix }, ['show', 'default', `outbox-${review.id}`]);
    }
    await untilUp(api, worker);
  });
  afterAll(async () => {
    await stopAll();
    db?.close();
  });

  async function postOrder(body: { user_id: number; sku: string; quantity: number }) {
    const res = await fetch(`${baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, any>;
    expect(res.status, `POST /api/orders should answer 201; it answered ${res.status}: ${JSON.stringify(answer)}`).toBe(201);
    return answer.order as { id: number };
  }

  function tasksWritten(orderId: number): string[] {
    return db
      .prepare<[number], { task: string }>("SELECT task FROM outbox WHERE json_extract(payload, '$.order_id') = ? ORDER BY id")
      .all(orderId)
      .map((row) => row.task);
  }

  it('POST /api/orders answers 201, and the receipt for that order reaches the inbox (TODO 1)', async () => {
    await endToEnd();
    explainOutput(worker, 'your worker wrote');
    explainOutput(api, 'your API wrote');
    explainInbox(inbox, (mail) => mail.to.includes('ada@example.test'));

    const order = await postOrder({ user_id: 1, sku: 'mug', quantity: 2 });
    const subject = `Your receipt for order #${order.id}`;

    expect(tasksWritten(order.id), `order ${order.id} wrote no send_receipt job: enqueue it in create()`).toContain('send_receipt');
    const mail = await inbox.waitFor((m) => m.subject === subject, 20_000);
    expect(mail.to, 'the receipt goes to the customer, Ada (user 1)').toEqual(['ada@example.test']);
  });

  it('the worker takes the order off the stock (TODO 2)', async () => {
    await endToEnd();
    explainOutput(worker, 'your worker wrote');
    const stock = () => db.prepare<[], { stock: number }>("SELECT stock FROM products WHERE sku = 'tee'").get()!.stock;
    const before = stock();
    explain('the stock of tee', () => `${stock()} now, ${before} before the order`);

    const order = await postOrder({ user_id: 2, sku: 'tee', quantity: 3 });

    expect(tasksWritten(order.id), `order ${order.id} wrote no update_inventory job: enqueue it in create()`).toContain('update_inventory');
    await waitUntil(
      'update_inventory to apply the order',
      () => db.prepare<[number], { done: string | null }>('SELECT inventory_updated_at AS done FROM orders WHERE id = ?').get(order.id)?.done ?? false,
      20_000,
    );
    expect(stock(), 'the order took 3 tees, once').toBe(before - 3);
  });

  it('the review request waits in Redis, due 7 days after the order: the jobs inspector shows it (TODO 3)', async () => {
    await endToEnd();
    const order = await postOrder({ user_id: 1, sku: 'sticker', quantity: 1 });
    const row = db
      .prepare<[number], { id: number }>("SELECT id FROM outbox WHERE task = 'ask_for_review' AND json_extract(payload, '$.order_id') = ?")
      .get(order.id);
    expect(row, `order ${order.id} wrote no ask_for_review job: enqueueIn it in create()`).toBeDefined();
    // Your API's relay hands the row to Redis as job outbox-<row id>.
    await waitUntil('the relay to send the review request', () => db.prepare<[number], { sent: number | null }>('SELECT sent_at AS sent FROM outbox WHERE id = ?').get(row!.id)?.sent, 10_000);

    expect(show, 'the order placed for the jobs inspector wrote no ask_for_review job: enqueueIn it in create()').toBeDefined();
    explainOutput(show!, showCommand);
    expect((await show!.exited).code, 'the jobs inspector should find the job').toBe(0);
    expect(show!.output()).toMatch(/task\s+ask_for_review/);
    expect(show!.output()).toMatch(/state\s+scheduled/);
    expect(show!.output(), 'it should be due in a week').toMatch(/\(in 6d 23h|\(in 7d/);
  });
});
