import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { uniquePrefix } from '../support/services/services.ts';
import { RELAY_BATCH_SIZE } from '../../src/jobs/outbox-jobs.ts';
import { OutboxWriter } from '../../src/jobs/outbox.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// This file has a Redis of its own, because it stops it.
let redis: RedisServer;
let bed: ReturnType<typeof apiTestbed>;
beforeAll(async () => {
  redis = await startRedisServer();
  bed = apiTestbed({ redisUrl: redis.url, prefix: uniquePrefix('outbox'), relayRetryMs: 100 });
  await waitUntil('the producer connection', () => bed.redis.status === 'ready');
});
afterAll(async () => {
  await bed?.close();
  await redis?.stop();
});

async function jobsOfOrder(orderId: number) {
  const jobs = await bed.jobs.queue('default').getJobs(['waiting', 'delayed']);
  return jobs.filter((job) => job.data.order_id === orderId);
}

describe('orders while Redis is down', () => {
  it('still answer at once, and the outbox delivers each job exactly once when Redis is back', async () => {
    await redis.stop();

    const startedAt = Date.now();
    const { status, body } = await bed.post('/api/orders', { user_id: 2, sku: 'tee', quantity: 1 });
    const tookMs = Date.now() - startedAt;
    expect(status).toBe(201);
    expect(tookMs).toBeLessThan(1_000);
    const orderId: number = body.order.id;

    // The relay tries, fails fast and keeps the rows.
    await waitUntil('a failed relay attempt', () => bed.db.prepare('SELECT 1 FROM outbox WHERE attempts > 0').get() !== undefined);
    expect(bed.outbox.countPending()).toBe(3);

    await redis.start();
    await waitUntil('the outbox to empty', () => bed.outbox.countPending() === 0, 15_000);
    const delivered = await jobsOfOrder(orderId);
    expect(delivered.map((job) => job.name).sort()).toEqual(['ask_for_review', 'send_receipt', 'update_inventory']);

    // A relay that sends the same rows again (it died before marking them sent) adds nothing.
    bed.db.prepare('UPDATE outbox SET sent_at = NULL').run();
    bed.relay.kick();
    await waitUntil('the outbox to empty again', () => bed.outbox.countPending() === 0);
    await bed.relay.idle();
    expect(await jobsOfOrder(orderId)).toHaveLength(3);
  });

  it('the dev route fails fast with 503 instead of hanging', async () => {
    await redis.stop();
    // Until the client sees the socket close, a call gets ioredis's own "Stream isn't writeable".
    await waitUntil('the producer connection to notice', () => bed.redis.status !== 'ready');
    const startedAt = Date.now();
    const { status, body } = await bed.post('/api/dev/send-birthday/1');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(status).toBe(503);
    expect(body.error).toMatch(/could not enqueue the job: Redis is not reachable/);
    await redis.start();
  });

  it('delivers a backlog larger than one batch', async () => {
    await redis.stop();
    const before = bed.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
    // One order kicks the relay, which fails and tries again; many more rows wait behind its three.
    expect((await bed.post('/api/orders', { user_id: 1, sku: 'sticker', quantity: 1 })).status).toBe(201);
    const writer = new OutboxWriter(bed.outbox);
    bed.db.transaction(() => {
      for (let i = 0; i < RELAY_BATCH_SIZE; i++) writer.enqueue('send_receipt', { order_id: 1_000_000 + i });
    })();
    const backlog = RELAY_BATCH_SIZE + 3;
    expect(bed.outbox.countPending()).toBe(backlog);

    await redis.start(); // no kick: the relay's own retry must bring all of it out
    await waitUntil('the backlog to go out', () => bed.outbox.countPending() === 0, 20_000);
    const jobs = await bed.jobs.queue('default').getJobs(['waiting', 'delayed'], 0, -1);
    expect(jobs.filter((job) => Number(job.id!.replace('outbox-', '')) > before.n)).toHaveLength(backlog);
  });
});

describe('OutboxWriter', () => {
  it('refuses a bad payload at once, so the transaction rolls back', () => {
    const writer = new OutboxWriter(bed.outbox);
    // @ts-expect-error: a caller outside TypeScript's reach
    expect(() => writer.enqueue('send_receipt', { order_id: 'x' })).toThrow(/bad payload for send_receipt: order_id/);
  });
});
