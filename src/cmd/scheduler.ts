// The scheduler process: `npm run scheduler`. It keeps the cron table in Redis;
// the workers run the jobs it produces.
import { loadConfig } from '../config.ts';
import { JobsClient } from '../jobs/client.ts';
import { redisConnection, targetAddress } from '../jobs/connection.ts';
import { registerCron, Scheduler } from '../jobs/cron.ts';
import { DEFAULT_QUEUE } from '../jobs/defaults.ts';
import { RedisErrorLog } from '../jobs/redis-errors.ts';
import { isUnavailable } from '../jobs/unavailable.ts';
import { createLogger } from '../logger.ts';
import { startTelemetry } from '../telemetry.ts';
import { onShutdown } from './shutdown.ts';

/**
 * BullMQ keeps schedules in Redis, so registering once is enough. Doing it again
 * every minute puts them back after a Redis that lost its data restarts, and
 * costs nothing: registering is idempotent.
 */
const REREGISTER_EVERY_MS = 60_000;

/** How long a stop waits for the Redis connections to close; with Redis down they may never. */
const CLOSE_TIMEOUT_MS = 2_000;

const config = loadConfig();
const log = createLogger('scheduler');

// Handle Ctrl-C / SIGTERM before anything waits for Redis: registering waits as
// long as Redis is down, and a stop must not find the default handler meanwhile.
let stopping = false;
let client: JobsClient | undefined;
let timer: NodeJS.Timeout | undefined;
onShutdown(log, async () => {
  stopping = true;
  clearInterval(timer);
  if (client) await closeWithin(client, CLOSE_TIMEOUT_MS);
});

await startTelemetry('scheduler', log); // off unless OTEL_* variables ask for traces
client = new JobsClient(redisConnection(config), { prefix: config.queuePrefix });
const scheduler = new Scheduler(client);

// While Redis is down, registering waits for it without a word. The log says why, once.
// The cron table lives in the default queue, so its connection is the one to watch.
const redisErrors = new RedisErrorLog(log, { where: targetAddress(config) });
const cronQueue = client.queue(DEFAULT_QUEUE);
cronQueue.on('error', (err) => redisErrors.error(err));
cronQueue.getBackend().on('ready', () => redisErrors.reachable());

async function register(): Promise<void> {
  try {
    await registerCron(scheduler);
    const entries = await scheduler.list();
    log.info({ schedules: entries.map((e) => `${e.task} "${e.pattern}" next ${e.next?.toISOString()}`) }, 'cron schedules registered');
  } catch (err) {
    if (stopping) return; // the connections were closed under it
    // Redis being away is said once by the Redis error log, not once a minute here.
    if (isUnavailable(err)) redisErrors.error(err, { while: 'registering the cron schedules; will try again' });
    else log.error({ err }, 'could not register the cron schedules; will try again');
  }
}

await register();
if (!stopping) timer = setInterval(register, REREGISTER_EVERY_MS);

/** closeWithin closes the client, or gives up after timeoutMs and lets the exit drop the connections. */
async function closeWithin(jobs: JobsClient, timeoutMs: number): Promise<void> {
  let giveUp: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    giveUp = setTimeout(() => {
      log.warn(`the Redis connections did not close within ${timeoutMs} ms: exiting without them`);
      resolve();
    }, timeoutMs);
  });
  await Promise.race([jobs.close(), timedOut]).finally(() => clearTimeout(giveUp));
}
