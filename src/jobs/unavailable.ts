import { QueueUnavailableError } from './client.ts';
import { describeRedisError } from './redis-errors.ts';

/**
 * Messages of ioredis errors that mean the connection is down or too slow: a
 * closed connection, a command refused while offline (fail-fast connections
 * have no offline queue), the per-request retries used up, a command timeout,
 * a cluster that reached no node.
 */
const CONNECTION_LOST = [
  /^Connection is closed/,
  /enableOfflineQueue options is false$/,
  /^Reached the max retries per request limit/,
  /^Command timed out$/,
  /^Cluster is disconnect(ed|ing)/,
  /^None of startup nodes is available$/,
  /^Failed to refresh slots cache/,
];

/**
 * Redis replies that mean "not now": a cluster without a quorum, a server
 * still loading its data, a failover; or a server that refuses writes until
 * someone acts: full (OOM, under `maxmemory-policy noeviction`), a primary
 * turned replica (READONLY), snapshots failing (MISCONF). None of them is the
 * job's fault, so the outbox relay must keep its rows.
 */
const NOT_READY_REPLIES = /^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|OOM|READONLY|MISCONF)\b/;

/** SQLite codes of a database another connection holds: SQLITE_BUSY, SQLITE_LOCKED and their extended codes. */
const DATABASE_BUSY = /^SQLITE_(BUSY|LOCKED)(_|$)/;

/**
 * isUnavailable says whether an error means Redis or the database cannot
 * serve the call right now, so that trying again later may work: the API
 * answers 503, and the outbox relay keeps its rows and tries again. Anything
 * else, a programming error included, is not: the API answers 500, and the
 * relay sets the row aside as dead.
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof QueueUnavailableError) return true;
  if (describeRedisError(err, undefined).kind === 'unreachable') return true;
  if (CONNECTION_LOST.some((pattern) => pattern.test(err.message))) return true;
  if (NOT_READY_REPLIES.test(err.message)) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && DATABASE_BUSY.test(code);
}
