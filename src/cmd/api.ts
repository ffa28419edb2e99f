// The API process: `npm run api`. It enqueues jobs and never runs them.
import { serve } from '@hono/node-server';
import { httpTimeouts } from '../api/http-timeouts.ts';
import { wireApi } from '../api/wiring.ts';
import { loadConfig } from '../config.ts';
import { targetAddress, waitForRedis } from '../jobs/connection.ts';
import { RedisErrorLog } from '../jobs/redis-errors.ts';
import { createLogger } from '../logger.ts';
import { startTelemetry } from '../telemetry.ts';
import { onShutdown } from './shutdown.ts';

const config = loadConfig();
const log = createLogger('api');
await startTelemetry('api', log); // off unless OTEL_* variables ask for traces

// In development a missing password keeps the admin page locked (npm start makes one
// up). In production that would ship a page nobody can open, or forget the login: refuse.
if (config.env === 'production' && !config.admin.password) {
  log.fatal('ADMIN_PASSWORD is not set: in production the API does not start without a login for the jobs admin page');
  await new Promise((resolve) => log.flush(resolve));
  process.exit(1);
}
const api = wireApi(config, log);

// Enqueues fail fast while Redis is down, and say so in their 503. The log says why, once.
const redisErrors = new RedisErrorLog(log, { where: targetAddress(config) });
api.redis.on('error', (err) => redisErrors.error(err));
api.redis.on('ready', () => redisErrors.reachable());

/** REDIS_STARTUP_WAIT_MS: how long the API waits for Redis before it takes requests anyway. */
const REDIS_STARTUP_WAIT_MS = 3_000;

// Take requests once Redis answers, so the first enqueue after "listening" does not
// meet a connection that is still being set up. If Redis is down, start anyway:
// enqueues answer 503 at once, and orders wait in the outbox until it is back.
await waitForRedis(api.redis, REDIS_STARTUP_WAIT_MS).catch(() =>
  log.warn('Redis is not reachable yet: enqueues answer 503 and orders wait in the outbox until it is back'),
);

// Jobs written while the last API process was down, or Redis was, go out now;
// and rows that no order kicks the relay for (a requeued one) within seconds.
api.relay.kick();
api.relay.sweepEvery();

/** KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open (Node's default, said aloud). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * CONNECTIONS_CHECK_INTERVAL_MS: how often Node looks for connections past their
 * headers or request timeout. Its default, 30 s, would let a 10 s limit run to 40 s.
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

// Slow or unfinished requests get a 408 and their connection closed, instead of
// holding it for Node's defaults (http-timeouts.ts says why the limits are what they are).
const timeouts = httpTimeouts();
const serverOptions = {
  headersTimeout: timeouts.headersTimeoutMs,
  requestTimeout: timeouts.requestTimeoutMs,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_INTERVAL_MS, timeouts.headersTimeoutMs),
};

const server = serve({ fetch: api.app.fetch, port: config.port, serverOptions }, (info) => {
  log.info(`API listening on http://localhost:${info.port}`);
});

onShutdown(log, async () => {
  // Stop taking requests first, then flush what they wrote, then close the connections they used.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
});
