// Scenario 1: orders placed while Redis is down keep getting 201, and once
// Redis is back each of their jobs exists once and runs once.
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEED_USERS } from '../../src/db/seed.ts';
import { createInbox } from '../support/services/inbox.ts';
import type { ChildScript } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';
import { readDatabaseFacts } from '../support/chaos/app-database.ts';
import { cleanUpChaos, freshApp, startApi, startWorker, type AppSetup, type RunningApi } from '../support/chaos/app-processes.ts';
import { extraRuns, jobIdsLogged, jobLines, missingFrom, repeated, tally } from '../support/chaos/counting.ts';
import { postJson } from '../support/chaos/http.ts';
import { inParallel } from '../support/chaos/in-parallel.ts';
import { startKillableRedis, type KillableRedis } from '../support/chaos/killable-redis.ts';
import { arrivedSince, receiptCounts, receiptKey } from '../support/chaos/receipts.ts';
import { printResult, seconds } from '../support/chaos/result-line.ts';
import { waitFor } from '../support/chaos/wait-for.ts';

const ORDERS = 200;
const TASKS_NOW = ['send_receipt', 'update_inventory'];
const TASK_LATER = 'ask_for_review';

let redis: KillableRedis;
let app: AppSetup;
let api: RunningApi;
let worker: ChildScript;
beforeAll(async () => {
  redis = await startKillableRedis();
  app = freshApp('redis-outage', redis.url, { RETRY_BASE_DELAY_MS: '100' });
  [api, worker] = await Promise.all([startApi(app), startWorker(app)]);
});
afterAll(cleanUpChaos);

/** `<task>:<order id>`: the key that must occur once per order and task. */
const jobKey = (job: Job) => `${job.name}:${(job.data as { order_id: number }).order_id}`;

it(`Redis killed: ${ORDERS} orders still get 201, and after the restart each of their ${3 * ORDERS} jobs exists once and runs once`, async () => {
  const inbox = createInbox(services());
  const receiptsBefore = receiptCounts(await inbox.list());

  await redis.kill();
  // Orders go to the three demo customers in turn, so each receipt can be checked for its recipient.
  const customerOf = (i: number) => SEED_USERS[i % SEED_USERS.length]!;
  const answers = await inParallel(ORDERS, 10, (i) =>
    postJson(api.baseUrl, '/api/orders', { user_id: customerOf(i).id, sku: 'sticker', quantity: 1 }),
  );
  expect(answers.filter((a) => a.status !== 201), 'orders refused while Redis was down').toEqual([]);
  const orderIds = answers.map((a) => a.body.order.id as number);
  expect(new Set(orderIds).size).toBe(ORDERS);
  const wantedReceipts = new Set(orderIds.map((id, i) => receiptKey(id, customerOf(i).email)));
  expect(readDatabaseFacts(app.databasePath)).toMatchObject({ outboxPending: 3 * ORDERS, outboxRows: 3 * ORDERS });

  const restartedAt = Date.now();
  await redis.start();
  const queue = new Queue('default', { connection: { url: redis.url }, prefix: app.prefix });
  try {
    let outboxEmptyAt: number | undefined;
    let counts: Record<string, number> = {};
    await waitFor(
      `the outbox to empty, ${2 * ORDERS} jobs to complete and ${ORDERS} to wait as delayed`,
      async () => {
        if (outboxEmptyAt === undefined && readDatabaseFacts(app.databasePath).outboxPending === 0) outboxEmptyAt = Date.now();
        counts = await queue.getJobCounts();
        return outboxEmptyAt !== undefined && counts.completed! >= 2 * ORDERS && counts.delayed! >= ORDERS;
      },
      () => ({ outboxEmpty: outboxEmptyAt !== undefined, counts }),
      90_000,
    );
    const allRanAt = Date.now();

    // Redis: one job per order and task, each in the state it should be in, and nothing else.
    const completed = await queue.getJobs(['completed'], 0, -1);
    const delayed = await queue.getJobs(['delayed'], 0, -1);
    const elsewhere = await queue.getJobs(['waiting', 'active', 'failed', 'prioritized', 'waiting-children'], 0, -1);
    expect(elsewhere.map((job) => `${job.id} ${jobKey(job)}`), 'jobs neither completed nor delayed').toEqual([]);
    const jobsByKey = tally([...completed, ...delayed].map(jobKey));
    const expectedKeys = orderIds.flatMap((id) => [...TASKS_NOW, TASK_LATER].map((task) => `${task}:${id}`));
    const lostJobs = missingFrom(expectedKeys, jobsByKey);
    expect(lostJobs, 'jobs lost').toEqual([]);
    expect(repeated(jobsByKey), 'jobs in Redis twice').toEqual([]);
    expect(delayed.map(jobKey).sort(), 'the delayed jobs are the review requests, one per order').toEqual(
      orderIds.map((id) => `${TASK_LATER}:${id}`).sort(),
    );
    expect(completed.length).toBe(2 * ORDERS);

    // The worker's log: each completed job started once and finished once. The worker writes its
    // lines in batches, up to 100 ms after the event: wait for the line of the last job first.
    await waitFor(
      `the worker to log ${2 * ORDERS} jobs done`,
      () => jobLines(worker, /^job done/).length >= 2 * ORDERS,
      () => worker.output().slice(-1_000),
      10_000,
    );
    const starts = tally(jobIdsLogged(worker, /^job started$/));
    const doneLines = jobLines(worker, /^job done/);
    const dones = tally(doneLines.map((line) => line.job));
    const firstRunAt = Math.min(...doneLines.map((line) => line.time));
    expect(missingFrom(completed.map((job) => job.id!), dones), 'completed jobs the worker never logged as done').toEqual([]);
    expect(repeated(dones), 'jobs run to the end twice').toEqual([]);
    expect(repeated(starts), 'jobs started twice').toEqual([]);
    expect(dones.size).toBe(2 * ORDERS);

    // The inbox: one receipt per order, to its customer. The stock: one sticker off per order.
    let receipts = new Map<string, number>();
    await waitFor(
      `${ORDERS} receipts in the inbox`,
      async () => {
        receipts = arrivedSince(receiptsBefore, receiptCounts(await inbox.list()), wantedReceipts);
        return receipts.size >= ORDERS;
      },
      () => ({ receipts: receipts.size }),
      30_000,
    );
    expect(missingFrom(wantedReceipts, receipts), 'orders without a receipt').toEqual([]);
    expect(repeated(receipts), 'receipts sent twice').toEqual([]);
    expect(readDatabaseFacts(app.databasePath)).toMatchObject({ outboxPending: 0, ordersNotInStock: 0, stock: { sticker: 1_000 - ORDERS } });

    printResult({
      fault: `Redis kill -9, ${ORDERS} orders placed while down, restart`,
      sent: 3 * ORDERS,
      completed: `${completed.length} run + ${delayed.length} delayed (due in 7 days); ${receipts.size} receipts`,
      lost: lostJobs.length,
      duplicated: extraRuns(jobsByKey) + extraRuns(dones) + extraRuns(receipts),
      recovery: `outbox empty ${seconds(outboxEmptyAt! - restartedAt)}, first job done ${seconds(firstRunAt - restartedAt)}, all ${seconds(allRanAt - restartedAt)} after the restart`,
    });
  } finally {
    await queue.close();
  }
});
