import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminNeedsRedis } from '../../src/api/admin-redis-guard.ts';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// The admin page's JSON API during a Redis outage: a 503 with the app's error
// shape, at once, never bull-board's internal error or a request that hangs.
const API = '/admin/system/jobs/api/queues';
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

let redis: RedisServer;
let bed: ReturnType<typeof apiTestbed>;
beforeAll(async () => {
  redis = await startRedisServer();
  bed = apiTestbed({ redisUrl: redis.url, prefix: uniquePrefix('admin-outage'), adminPassword: 'pw' });
  await waitUntil('the producer connection', () => bed.redis.status === 'ready');
});
afterAll(async () => {
  await bed.close();
  await redis.stop();
});

async function get(path: string) {
  const startedAt = Date.now();
  const res = await bed.app.request(path, { headers: auth });
  return { status: res.status, body: await res.json(), tookMs: Date.now() - startedAt };
}

describe('the admin API during a Redis outage', () => {
  it('answers 200 while Redis is up', async () => {
    expect((await get(API)).status).toBe(200);
  });

  it('answers 503 at once, in the error shape, while Redis is down', async () => {
    await redis.stop();
    await waitUntil('the connection to notice', () => bed.redis.status !== 'ready');
    for (const path of [API, '/admin/system/jobs/api/queues/default/1', '/admin/system/jobs/api/redis/stats']) {
      const { status, body, tookMs } = await get(path);
      expect(status, path).toBe(503);
      expect(body).toEqual({ error: expect.stringContaining('Redis cannot be reached') });
      expect(tookMs).toBeLessThan(2_000);
    }
  });

  it('asks for the login first, and serves again once Redis is back', async () => {
    expect((await bed.app.request(API)).status).toBe(401);
    await redis.start();
    await waitUntil('the connection to come back', () => bed.redis.status === 'ready', 20_000);
    expect((await get(API)).status).toBe(200);
  });
});

describe('adminNeedsRedis', () => {
  it('turns a failure from Redis going away mid-request into the 503', async () => {
    const redis: { status: Redis['status'] } = { status: 'ready' };
    const app = new Hono()
      .use(adminNeedsRedis(redis))
      .get('/', () => {
        redis.status = 'reconnecting';
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^Redis cannot be reached.*\(connection: reconnecting\)$/) });
  });

  it('leaves other failures alone while Redis is up', async () => {
    const app = new Hono().use(adminNeedsRedis({ status: 'ready' })).get('/', () => {
      throw new Error('a bug');
    });
    expect((await app.request('/')).status).toBe(500);
  });
});
