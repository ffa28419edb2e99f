import { Hono } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import type { Db } from '../../db/database.ts';
import { errorResponse } from '../errors.ts';

/**
 * READY_CHECK_TIMEOUT_MS bounds the Redis PING, so GET /readyz answers within
 * about a second even when Redis accepts the connection but never replies.
 */
export const READY_CHECK_TIMEOUT_MS = 1_000;

/** ReadyDeps are what GET /readyz checks: the API's Redis connection and its database. */
export interface ReadyDeps {
  redis: Pick<Redis | Cluster, 'status' | 'ping'>;
  db: Pick<Db, 'prepare'>;
}

/** ReadyChecks say, per dependency, "ok" or why it is not. */
export interface ReadyChecks {
  redis: string;
  database: string;
}

const OK = 'ok';

/**
 * readyRoutes answers GET /readyz: 200 `{ "status": "ready" }` when Redis
 * answers PING and the database answers a trivial query. Otherwise 503 with
 * the app's error shape plus the checks, e.g.
 * `{ "error": "not ready: redis", "checks": { "redis": "no connection (reconnecting)", "database": "ok" } }`.
 * It never waits for Redis longer than timeoutMs (default READY_CHECK_TIMEOUT_MS).
 */
export function readyRoutes({ redis, db }: ReadyDeps, timeoutMs = READY_CHECK_TIMEOUT_MS) {
  return new Hono().get('/', async (c) => {
    const checks: ReadyChecks = { redis: await checkRedis(redis, timeoutMs), database: checkDatabase(db) };
    const failing = (Object.keys(checks) as (keyof ReadyChecks)[]).filter((name) => checks[name] !== OK);
    if (failing.length === 0) return c.json({ status: 'ready' });
    return errorResponse(c, 503, `not ready: ${failing.join(', ')}`, { checks });
  });
}

/** checkRedis PINGs, and gives up after timeoutMs. A connection that is not up fails at once. */
async function checkRedis(redis: ReadyDeps['redis'], timeoutMs: number): Promise<string> {
  // The API's producer connection has no offline queue: say why instead of ioredis's "Stream isn't writeable".
  if (redis.status !== 'ready') return `no connection (${redis.status})`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(resolve, timeoutMs, `no answer to PING within ${timeoutMs} ms`)));
  const ping = redis.ping().then(
    (reply) => (reply === 'PONG' ? OK : `unexpected answer to PING: ${reply}`),
    (err: unknown) => reasonOf(err),
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** checkDatabase runs SELECT 1. better-sqlite3 is synchronous and a read takes no lock, so it cannot hang. */
function checkDatabase(db: ReadyDeps['db']): string {
  try {
    db.prepare('SELECT 1').get();
    return OK;
  } catch (err) {
    return reasonOf(err);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
