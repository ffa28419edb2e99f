import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { openDatabase, type Db } from '../db/database.ts';
import { OrderRepo } from '../db/orders.ts';
import { OutboxRepo } from '../db/outbox.ts';
import { seedCatalog, seedDemoUsers } from '../db/seed.ts';
import { UserRepo } from '../db/users.ts';
import { JobsClient } from '../jobs/client.ts';
import { producerConnection } from '../jobs/connection.ts';
import { OutboxRelay, OutboxWriter } from '../jobs/outbox.ts';
import type { Logger } from '../logger.ts';
import { InvoiceService } from '../services/invoices.ts';
import { OrderService } from '../services/orders.ts';
import { UserService } from '../services/users.ts';
import { createApp } from './app.ts';

/** ApiParts is the API process's object graph: the app and what it holds open. */
export interface ApiParts {
  app: ReturnType<typeof createApp>;
  db: Db;
  redis: Redis | Cluster;
  jobs: JobsClient;
  outbox: OutboxRepo;
  relay: OutboxRelay;
  /** close flushes the outbox relay, then closes Redis and the database. */
  close(): Promise<void>;
}

type ApiConfig = Pick<Config, 'env' | 'admin' | 'databasePath' | 'redisUrl' | 'redisClusterNodes' | 'queuePrefix'>;

/**
 * wireApi builds everything the API needs from its config: the database (with
 * the catalog, and the demo users outside production), a fail-fast Redis
 * connection, the jobs client, the outbox relay, and the sign-up, order and
 * invoice services. cmd/api.ts serves the app; tests and the benchmark call it
 * without a port.
 */
export function wireApi(config: ApiConfig, log: Logger, opts: { relayRetryMs?: number } = {}): ApiParts {
  const db = openDatabase(config.databasePath);
  seedCatalog(db);
  if (config.env !== 'production') seedDemoUsers(db);

  const redis = producerConnection(config);
  const jobs = new JobsClient(redis, { prefix: config.queuePrefix });
  const outbox = new OutboxRepo(db);
  const relay = new OutboxRelay(outbox, jobs, log, { retryMs: opts.relayRetryMs });
  const outboxWriter = new OutboxWriter(outbox);
  const users = new UserRepo(db);
  const userService = new UserService(db, users, outboxWriter, () => relay.kick());
  const orderRepo = new OrderRepo(db);
  const orders = new OrderService(db, orderRepo, outboxWriter, () => relay.kick());
  const invoices = new InvoiceService(orderRepo, jobs);
  const app = createApp({ config, jobs, users, userService, orders, invoices, log, ready: { redis, db } });

  return {
    app,
    db,
    redis,
    jobs,
    outbox,
    relay,
    async close() {
      await relay.stop();
      await jobs.close();
      redis.disconnect();
      db.close();
    },
  };
}
