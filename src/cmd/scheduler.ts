// The scheduler process: `npm run scheduler`. It keeps the cron table in Redis;
// the workers run the jobs it produces.
import { loadConfig } from '../config.ts';
import { JobsClient } from '../jobs/client.ts';
import { redisConnection, targetAddress } from '../jobs/connection.ts';
import { registerCron, Scheduler } from '../jobs/cron.ts';
import { DEFAULT_QUEUE } from '../jobs/defaults.ts';
import { RedisErrorLog } from '../jobs/redis-errors.ts';
import { createLogger } from '../logger.ts';
import { startTelemetry } from '../telemetry.ts';
import { onShutdown } from './shutdown.ts';

/**
 * BullMQ keeps schedules in Redis, so registering once is enough. Doing it again
 * every minute puts them back after a Redis that lost its data restarts, and
 * costs nothing: registering is idempotent.
 */
const REREGISTER_EVERY_MS = 60_000;

const config = loadConfig();
const log = createLogger('scheduler');
await startTelemetry('scheduler', log); // off unless OTEL_* variables ask for traces
const client = new JobsClient(redisConnection(config), { prefix: config.queuePrefix });
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
    log.error({ err }, 'could not register the cron schedules; will try again');
  }
}

await register();
const timer = setInterval(register, REREGISTER_EVERY_MS);

onShutdown(log, async () => {
  clearInterval(timer);
  await client.close();
});
