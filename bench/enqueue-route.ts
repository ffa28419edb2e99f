import { serve } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { createApp } from '../src/api/app.ts';
import { openDatabase } from '../src/db/database.ts';
import { OrderRepo } from '../src/db/orders.ts';
import { OutboxRepo } from '../src/db/outbox.ts';
import { seed } from '../src/db/seed.ts';
import { UserRepo } from '../src/db/users.ts';
import { JobsClient } from '../src/jobs/client.ts';
import { producerConnection } from '../src/jobs/connection.ts';
import { OutboxRelay, OutboxWriter } from '../src/jobs/outbox.ts';
import { OrderService } from '../src/services/orders.ts';
import { freePort } from '../src/dev/free-port.ts';
import { silent } from './silent.ts';

/** Median latency in ms of each route over `requests` sequential HTTP requests, measured in one run. */
export async function routeLatencies(redisUrl: string, prefix: string, requests: number) {
  const db = openDatabase(':memory:');
  seed(db);
  const redis: Redis = producerConnection(redisUrl);
  await new Promise((resolve) => redis.once('ready', resolve));
  const jobs = new JobsClient(redis, { prefix });
  const outbox = new OutboxRepo(db);
  const relay = new OutboxRelay(outbox, jobs, silent);
  const orders = new OrderService(db, new OrderRepo(db), new OutboxWriter(outbox), () => relay.kick());
  const app = createApp({ config: { env: 'development', admin: { user: 'admin', password: undefined } }, jobs, users: new UserRepo(db), orders, log: silent });
  const port = await freePort();
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;

  const median = async (send: () => Promise<Response>) => {
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const at = performance.now();
      const res = await send();
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`benchmark request failed: ${res.status}`);
      samples.push(performance.now() - at);
    }
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)]!;
  };
  const json = { 'content-type': 'application/json' };
  const order = JSON.stringify({ user_id: 1, sku: 'sticker', quantity: 1 });

  // Interleaved warm-up, then each route in turn.
  await median(() => fetch(`${base}/healthz`));
  const empty = await median(() => fetch(`${base}/healthz`));
  const enqueue = await median(() => fetch(`${base}/api/dev/send-birthday/1`, { method: 'POST' }));
  const createOrder = await median(() => fetch(`${base}/api/orders`, { method: 'POST', headers: json, body: order }));

  await new Promise<void>((resolve) => server.close(() => resolve()));
  await relay.stop();
  await jobs.close();
  redis.disconnect();
  db.close();
  return { empty, enqueue, createOrder };
}
