// Exercise 11's README and WORKSHOP.md's chapter 12 say what the app does in
// an outage: the log lines, how often it tries again, how long it takes to
// come back, what BullMQ keeps. These checks hold those words to the code.
import { readFileSync } from 'node:fs';
import { RedisConnection } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OutboxRepo } from '../../src/db/outbox.ts';
import { producerConnection, redisConnection } from '../../src/jobs/connection.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { deadRowMessage, RELAY_BATCH_SIZE } from '../../src/jobs/outbox-jobs.ts';
import { BACK_NOTICE, OUTAGE_WARNING, OUTBOX_RETRY_MS, OutboxRelay, OutboxWriter } from '../../src/jobs/outbox.ts';
import { REMINDER_EVERY_MS, RedisErrorLog, describeRedisError } from '../../src/jobs/redis-errors.ts';
import { checkPayload } from '../../src/jobs/tasks.ts';
import { captureLog } from '../support/course/log.ts';
import { startRedisServer } from '../support/services/redis-server.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { waitUntil } from '../support/wait.ts';

/** One line per paragraph, Markdown's wrapping and list indentation undone. */
function read(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
}
const readme = read('exercises/11-outbox/README.md');
const chapter = read('WORKSHOP.md');

/** The Redis the README has the learner start by hand. */
const LEARNERS_REDIS = 'redis://127.0.0.1:6390';

/** longestWait is the longest pause between reconnects that a retry strategy makes, over 200 tries (jitter included). */
function longestWait(strategy: (times: number) => number | void | null): number {
  let longest = 0;
  for (let times = 1; times <= 200; times++) longest = Math.max(longest, Number(strategy(times) ?? 0));
  return longest;
}

describe("exercise 11's texts", () => {
  const bed = jobsTestbed('texts11');
  afterAll(() => bed.cleanup());

  it('quote the line the API and the worker log once when Redis goes away, the reminder, and the line when it is back', () => {
    const refused = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:6390`), { code: 'ECONNREFUSED' });
    expect(readme).toContain(`\`${describeRedisError(refused, LEARNERS_REDIS).message}\``);
    expect(readme).toContain(`a reminder every ${REMINDER_EVERY_MS / 1000} s`);

    const log = captureLog();
    const errors = new RedisErrorLog(log.logger, { where: LEARNERS_REDIS });
    for (let i = 0; i < 5; i++) errors.error(refused);
    errors.reachable();
    const messages = log.lines().map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages, 'one line for the outage, one for the way back').toHaveLength(2);
    expect(readme).toContain(`\`${messages[1]}\``);
  });

  it("quote the relay's warning, logged once per outage with the pending jobs, and its line when the jobs went out", async () => {
    const db = openDatabase(':memory:');
    const outbox = new OutboxRepo(db);
    const writer = new OutboxWriter(outbox);
    db.transaction(() => {
      writer.enqueue('send_receipt', { order_id: 1 });
      writer.enqueue('update_inventory', { order_id: 1 });
      writer.enqueueIn('ask_for_review', { order_id: 1 }, 1_000);
    })();
    // The API's relay on a Redis of its own, stopped while the relay tries and started again.
    const server = await startRedisServer();
    const redis = producerConnection({ redisUrl: server.url });
    const client = new JobsClient(redis, { prefix: 'texts11' });
    const log = captureLog();
    const relay = new OutboxRelay(outbox, client, log.logger, { retryMs: 10 });
    try {
      await waitUntil('the connection to Redis', () => redis.status === 'ready');
      await server.stop();
      await waitUntil('the connection to notice', () => redis.status !== 'ready');
      relay.kick();
      await waitUntil('a few tries while Redis is down', () => (outbox.pending()[0]?.attempts ?? 0) >= 4);
      await server.start();
      await waitUntil('the rows to go out', () => outbox.countPending() === 0);
    } finally {
      await relay.stop();
      await client.close();
      redis.disconnect();
      await server.stop();
      db.close();
    }

    const entries = log.lines().map((line) => JSON.parse(line) as { level: number; msg: string; pending?: number });
    expect(entries.map((entry) => [entry.level, entry.msg])).toEqual([
      [40, OUTAGE_WARNING],
      [30, BACK_NOTICE],
    ]);
    expect(readme).toContain(`\`${OUTAGE_WARNING}\`, with \`"pending":${entries[0]!.pending}\``);
    expect(readme).toContain(`\`${BACK_NOTICE}\``);
    expect(OUTBOX_RETRY_MS, 'the README says the relay tries again every second').toBe(1_000);
    expect(readme).toContain('tries again every second');
  });

  it("quote the relay's error line for a row set aside as dead", () => {
    const checked = checkPayload('send_receipt', { order_id: 'x' });
    expect(checked.ok).toBe(false);
    const reason = checked.ok ? '' : checked.reason;
    expect(readme).toContain(`\`${deadRowMessage({ id: 7, task: 'send_receipt', queue: 'default', reason })}\``);
  });

  it('say how long the API and the worker wait between reconnects, and how soon the jobs go out', async () => {
    // The API's connection is producerConnection(); ioredis spaces its reconnects.
    const api = producerConnection({ redisUrl: 'redis://127.0.0.1:1' }) as Redis;
    api.disconnect();
    const apiSeconds = Math.round(longestWait(api.options.retryStrategy!) / 1_000);
    // The worker's connections are BullMQ's, made from redisConnection()'s options, with BullMQ's spacing.
    const worker = new RedisConnection({ ...(redisConnection({ redisUrl: 'redis://127.0.0.1:1' }) as object), lazyConnect: true }, { blocking: false });
    worker.on('error', () => {});
    const workerStrategy = (worker as unknown as { opts: { retryStrategy: (times: number) => number } }).opts.retryStrategy;
    const workerSeconds = Math.round(longestWait(workerStrategy) / 1_000);
    await worker.close().catch(() => {});

    expect(readme).toContain(`up to about ${apiSeconds} s for the API and up to ${workerSeconds} s for the worker`);
    expect(readme).toContain(`within about ${apiSeconds + OUTBOX_RETRY_MS / 1_000} s the API logs`);
    expect(readme).toContain(`Once the worker is back too (up to ${workerSeconds} s)`);
  });

  it('say how many rows a pass takes, and which jobs BullMQ keeps', () => {
    const batch = RELAY_BATCH_SIZE.toLocaleString('en');
    expect(readme).toContain(`\`outbox.pending(RELAY_BATCH_SIZE)\` gives up to ${batch} unsent rows, oldest first`);
    expect(chapter).toContain(`\`outbox.pending(RELAY_BATCH_SIZE)\`: up to ${batch} unsent rows, oldest first`);
    const kept = bed.client.jobOptions();
    expect(kept.removeOnFail, 'dead jobs stay').toBeUndefined();
    expect(readme).toContain(`each queue keeps its latest ${(kept.removeOnComplete as { count: number }).count.toLocaleString('en')} completed jobs; dead ones stay until you remove them`);
  });

  it("hold BullMQ to what they say of job ids: a held id adds nothing, a removed one is free again, a bare number is refused", async () => {
    const queue = bed.client.queue('default');
    const first = await bed.client.enqueue('send_receipt', { order_id: 1 }, { jobId: 'outbox-1' });
    const again = await bed.client.enqueue('send_receipt', { order_id: 1 }, { jobId: 'outbox-1' });
    expect(again.id).toBe(first.id);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });

    await (await queue.getJob('outbox-1'))!.remove();
    expect(await queue.getJob('outbox-1')).toBeUndefined();
    await bed.client.enqueue('send_receipt', { order_id: 1 }, { jobId: 'outbox-1' });
    expect(await queue.getJob('outbox-1'), 'once removed, the same id adds a new job').toBeDefined();
    expect(readme).toContain('Once the job has been removed, its id is free again, and a resend adds a new job');

    await expect(bed.client.enqueue('send_receipt', { order_id: 1 }, { jobId: '7' })).rejects.toThrow(/cannot be integers/);
    expect(read('solutions/11-outbox/README.md')).toContain('BullMQ refuses a custom id that is a bare number');
  });
});
