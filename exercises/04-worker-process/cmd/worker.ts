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
// 🐨 TODO(2): Register the app's handlers on the mux, as the lesson's
//    jobs.NewHandlers(services).Register(mux) does. The mux is empty, so every
//    job dies at once with "no handler for task ...".
// 💰 new Handlers(deps).register(mux). The deps are HandlerDeps in
//    ../jobs/handlers.ts: the mailer and the uploads above, a UserRepo and an
//    OrderRepo on the database, and config.digestTo for the nightly digest.

// 🐨 TODO(1): This server runs, but it is not the lesson's. It runs one job at
//    a time, whatever WORKER_CONCURRENCY says, and it serves the default queue
//    only: a job on critical or low waits there forever.
//    Give it the lesson's two settings:
//    - concurrency: the number of slots from the config (WORKER_CONCURRENCY,
//      10 when it is not set);
//    - queues: critical, default and low, weighted 6, 3 and 1.
// 💰 loadConfig() put WORKER_CONCURRENCY in config.worker.concurrency.
// 🦉 A weight means what it means in asynq's Queues map: see the doc comment
//    of JobServer in ../jobs/server.ts.
const server = new JobServer(connection, mux, {
  concurrency: 1,
  queues: { default: 1 },
  retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: config.worker.retryBaseDelayMs },
  shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
  prefix: config.queuePrefix,
  logger: log,
});
const client = new JobsClient(connection, { prefix: config.queuePrefix });

// Handle Ctrl-C / SIGTERM before anything starts, so a stop never finds the
// default handler (which would exit without draining).
// 🐨 TODO(3): Drain on Ctrl-C. Nothing handles SIGINT yet, so Node's default
//    kills the process at once, in the middle of whatever job is running.
//    Install a shutdown that, in this order:
//    - stops the server: it takes no new job and waits for the running ones;
//    - then closes what the jobs were using: the client, the mailer, the database.
// 💰 onShutdown(log, stop) from ./shutdown.ts runs `stop` once on SIGINT or
//    SIGTERM, then exits 0. server.shutdown() is the first step of `stop`.

await server.start();

// Exercise 05 adds the cron table here.
