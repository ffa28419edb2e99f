import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyRoutes } from '../../src/api/routes/ready.ts';
import { openDatabase } from '../../src/db/database.ts';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

async function getReady(bed: { app: { request(path: string): Response | Promise<Response> } }) {
  const startedAt = Date.now();
  const res = await bed.app.request('/readyz');
  return { status: res.status, body: (await res.json()) as Record<string, any>, tookMs: Date.now() - startedAt };
}

describe('GET /readyz', () => {
  it('answers 200 when Redis and the database answer', async () => {
    const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('readyz') });
    try {
      await waitUntil('the producer connection', () => bed.redis.status === 'ready');
      const { status, body } = await getReady(bed);
      expect({ status, body }).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      await bed.close();
    }
  });

  it('answers 503 naming the database when it is closed', async () => {
    const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('readyz-db') });
    try {
      await waitUntil('the producer connection', () => bed.redis.status === 'ready');
      bed.db.close();
      const { status, body } = await getReady(bed);
      expect(status).toBe(503);
      expect(body).toEqual({ error: 'not ready: database', checks: { redis: 'ok', database: expect.stringMatching(/not open/) } });
    } finally {
      await bed.close();
    }
  });
});

describe('GET /readyz while Redis is down', () => {
  // A Redis of its own, because the test stops it.
  let redis: RedisServer;
  let bed: ReturnType<typeof apiTestbed>;
  beforeAll(async () => {
    redis = await startRedisServer();
    bed = apiTestbed({ redisUrl: redis.url, prefix: uniquePrefix('readyz-redis') });
    await waitUntil('the producer connection', () => bed.redis.status === 'ready');
  });
  afterAll(async () => {
    await bed?.close();
    await redis?.stop();
  });

  it('answers 503 naming redis, at once, and 200 again once Redis is back', async () => {
    expect((await getReady(bed)).status).toBe(200);
    await redis.stop();

    const { status, body, tookMs } = await getReady(bed);
    expect(tookMs).toBeLessThan(1_500);
    expect(status).toBe(503);
    expect(body).toEqual({ error: 'not ready: redis', checks: { redis: expect.not.stringMatching(/^ok$/), database: 'ok' } });

    await redis.start();
    await waitUntil('/readyz to answer 200 again', async () => (await getReady(bed)).status === 200, 15_000);
  });
});

describe('readyRoutes', () => {
  it('gives up on a PING that never returns after its timeout', async () => {
    const db = openDatabase(':memory:');
    const hanging = { status: 'ready' as const, ping: () => new Promise<'PONG'>(() => {}) };
    const app = new Hono().route('/readyz', readyRoutes({ redis: hanging, db }, 50));
    const { status, body, tookMs } = await getReady({ app });
    db.close();
    expect(tookMs).toBeLessThan(1_000);
    expect(status).toBe(503);
    expect(body).toEqual({ error: 'not ready: redis', checks: { redis: 'no answer to PING within 50 ms', database: 'ok' } });
  });
});
