import type { Redis } from 'ioredis';
import { createApp } from '../../src/api/app.ts';
import type { Config } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { OutboxRepo } from '../../src/db/outbox.ts';
import { seed } from '../../src/db/seed.ts';
import { UserRepo } from '../../src/db/users.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { producerConnection } from '../../src/jobs/connection.ts';
import { OutboxRelay, OutboxWriter } from '../../src/jobs/outbox.ts';
import { OrderService } from '../../src/services/orders.ts';
import { quietLogger } from './jobs.ts';

/**
 * apiTestbed wires the API the way cmd/api.ts does, on an in-memory database
 * and the given Redis, without opening a port: call app.request().
 */
export function apiTestbed(opts: { redisUrl: string; prefix: string; env?: Config['env']; relayRetryMs?: number; adminPassword?: string }) {
  const db = openDatabase(':memory:');
  seed(db);
  const redis: Redis = producerConnection(opts.redisUrl);
  const jobs = new JobsClient(redis, { prefix: opts.prefix });
  const outbox = new OutboxRepo(db);
  const relay = new OutboxRelay(outbox, jobs, quietLogger, { retryMs: opts.relayRetryMs ?? 100 });
  const orders = new OrderService(db, new OrderRepo(db), new OutboxWriter(outbox), () => relay.kick());
  const app = createApp({ config: { env: opts.env ?? 'test', admin: { user: 'admin', password: opts.adminPassword } }, jobs, users: new UserRepo(db), orders, log: quietLogger });

  return {
    app,
    db,
    jobs,
    outbox,
    relay,
    redis,
    /** post sends a JSON body (or a raw string) and returns status and parsed body. */
    async post(path: string, body?: unknown) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    },
    async close() {
      await relay.stop();
      await jobs.close();
      redis.disconnect();
      db.close();
    },
  };
}
