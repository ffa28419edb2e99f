// The API process: `npm run api`. It enqueues jobs and never runs them.
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { OrderRepo } from '../db/orders.ts';
import { OutboxRepo } from '../db/outbox.ts';
import { seed } from '../db/seed.ts';
import { UserRepo } from '../db/users.ts';
import { JobsClient } from '../jobs/client.ts';
import { producerConnection } from '../jobs/connection.ts';
import { OutboxRelay, OutboxWriter } from '../jobs/outbox.ts';
import { createLogger } from '../logger.ts';
import { OrderService } from '../services/orders.ts';
import { onShutdown } from './shutdown.ts';

const config = loadConfig();
const log = createLogger('api');
const db = openDatabase(config.databasePath);
if (config.env !== 'production') seed(db);

const redis = producerConnection(config.redisUrl);
const jobs = new JobsClient(redis, { prefix: config.queuePrefix });
const outbox = new OutboxRepo(db);
const relay = new OutboxRelay(outbox, jobs, log);
const orders = new OrderService(db, new OrderRepo(db), new OutboxWriter(outbox), () => relay.kick());
const app = createApp({ config, jobs, users: new UserRepo(db), orders, log });

// Jobs written while the last API process was down, or Redis was, go out now.
relay.kick();

const server = serve({ fetch: app.fetch, port: config.port }, (info) => {
  log.info(`API listening on http://localhost:${info.port}`);
});

onShutdown(log, async () => {
  // Stop taking requests first, then flush what they wrote, then close the connections they used.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await relay.stop();
  await jobs.close();
  redis.disconnect();
  db.close();
});
