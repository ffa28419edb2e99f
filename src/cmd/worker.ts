// The worker process: `npm run worker`, the lesson's cmd/worker/main.go.
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { OrderRepo } from '../db/orders.ts';
import { UserRepo } from '../db/users.ts';
import { JobsClient } from '../jobs/client.ts';
import { redisConnection } from '../jobs/connection.ts';
import { registerCron, Scheduler } from '../jobs/cron.ts';
import { Handlers } from '../jobs/handlers.ts';
import { ServeMux } from '../jobs/mux.ts';
import { DEFAULT_RETRY_POLICY } from '../jobs/retry.ts';
import { JobServer } from '../jobs/server.ts';
import { createLogger } from '../logger.ts';
import { createSmtpMailer } from '../mail/mailer.ts';
import { Uploads } from '../storage/uploads.ts';
import { startTelemetry } from '../telemetry.ts';
import { onShutdown } from './shutdown.ts';

const config = loadConfig();
const log = createLogger('worker');
await startTelemetry('worker', log); // off unless OTEL_* variables ask for traces
const db = openDatabase(config.databasePath);
const mailer = createSmtpMailer(config.smtpUrl, config.mailFrom);
const connection = redisConnection(config);

// The uploads folder stands in for S3: while it is missing, storage is "down".
const uploads = new Uploads(config.uploadsDir);
await uploads.ensureFolder();

const mux = new ServeMux();
new Handlers({
  mailer,
  uploads,
  users: new UserRepo(db),
  orders: new OrderRepo(db),
  digestTo: config.digestTo,
}).register(mux);

const server = new JobServer(connection, mux, {
  concurrency: config.worker.concurrency,
  // Priority weights: with every queue busy, about 6 of every 10 jobs come from critical.
  queues: { critical: 6, default: 3, low: 1 },
  retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: config.worker.retryBaseDelayMs },
  shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
  prefix: config.queuePrefix,
  logger: log,
});
const client = new JobsClient(connection, { prefix: config.queuePrefix });

// Handle Ctrl-C / SIGTERM before anything starts, so a stop never finds the
// default handler (which would exit without draining).
onShutdown(log, async () => {
  await server.shutdown();
  await client.close();
  mailer.close();
  db.close();
});

await server.start();

// Only the process started with RUN_SCHEDULER=true registers the cron table.
// If two do, nothing breaks: see Scheduler.
if (config.runScheduler) {
  await registerCron(new Scheduler(client));
  log.info('cron schedules registered (RUN_SCHEDULER=true)');
}
