import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { withoutPassword } from '../config.ts';
import type { Logger } from '../logger.ts';

/** How long an error that keeps coming back stays quiet before a reminder. */
export const REMINDER_EVERY_MS = 30_000;

/** Error codes that mean "nothing answers at that address". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** Reply codes of a login that Redis refused: a wrong password, or none where one is required. */
const LOGIN_REFUSED = new Set(['WRONGPASS', 'NOAUTH']);

/** A Redis error sorted into a kind, with the line that tells a person what to do. */
export interface RedisErrorKind {
  /** Errors of one kind are logged once, then reminded of. */
  kind: string;
  message: string;
  /** False for kinds this file does not know: their log line keeps the error's details. */
  known: boolean;
}

/**
 * describeRedisError sorts an error by kind. `where` is the Redis address to
 * print, without its password; `label` starts the line of an unknown kind.
 */
export function describeRedisError(err: unknown, where: string | undefined, label = 'Redis error'): RedisErrorKind {
  const code = errorCode(err);
  if (code && LOGIN_REFUSED.has(code)) {
    const message = `Redis refused the login (${code}): check the password in REDIS_URL${where ? ` (${where})` : ''}`;
    return { kind: 'login refused', message, known: true };
  }
  if (code && UNREACHABLE.has(code)) {
    return { kind: 'unreachable', message: `Redis cannot be reached${where ? ` at ${where}` : ''} (${code}): is it running?`, known: true };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { kind: text, message: `${label}: ${text}`, known: false };
}

/**
 * RedisErrorLog keeps Redis errors from flooding the log. While Redis is down
 * every connection fails again on each reconnect, several times a second. So
 * the first error of each kind is logged, then at most one reminder every
 * 30 s, with how many came in between; and one line once Redis is back.
 * One per process: connections that fail for the same reason say it once.
 */
export class RedisErrorLog {
  /** The kinds of error seen since Redis was last reachable: when each was last logged, and how many were not since. */
  readonly #seen = new Map<string, { loggedAt: number; unlogged: number }>();
  readonly #log: Logger;
  readonly #where: string | undefined;
  readonly #label: string | undefined;
  readonly #reminderEveryMs: number;
  readonly #now: () => number;

  constructor(
    log: Logger,
    opts: { where?: string; label?: string; reminderEveryMs?: number; now?: () => number } = {},
  ) {
    this.#log = log;
    this.#where = opts.where;
    this.#label = opts.label;
    this.#reminderEveryMs = opts.reminderEveryMs ?? REMINDER_EVERY_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** error logs an error if it is the first of its kind, or if its last reminder is old enough. */
  error(err: unknown, context: Record<string, unknown> = {}): void {
    const { kind, message, known } = describeRedisError(err, this.#where, this.#label);
    // A refused login or a server that is down concerns every queue alike: its line says it all.
    // Any other error keeps its context, and its details the first time.
    const fields = known ? {} : context;
    const now = this.#now();
    const seen = this.#seen.get(kind);
    if (!seen) {
      this.#seen.set(kind, { loggedAt: now, unlogged: 0 });
      this.#log.error(known ? fields : { ...fields, err }, message);
      return;
    }
    seen.unlogged++;
    const quietFor = now - seen.loggedAt;
    if (quietFor < this.#reminderEveryMs) return;
    const seconds = Math.round(quietFor / 1000);
    this.#log.error({ ...fields, repeated: seen.unlogged }, `${message}. Still failing: ${seen.unlogged} more errors in the last ${seconds} s`);
    seen.loggedAt = now;
    seen.unlogged = 0;
  }

  /** reachable logs one line when a connection is ready again after errors. */
  reachable(): void {
    if (this.#seen.size === 0) return;
    this.#seen.clear();
    this.#log.info(`Redis is reachable again${this.#where ? ` at ${this.#where}` : ''}`);
  }
}

/** redisAddress is the URL of BullMQ connection options, safe to print; undefined if they hold none. */
export function redisAddress(connection: ConnectionOptions): string | undefined {
  // ioredis keeps a cluster's seed nodes to itself.
  if (connection instanceof Cluster) return 'the Redis Cluster of REDIS_CLUSTER_NODES';
  const url: unknown = (connection as { url?: unknown }).url;
  return typeof url === 'string' ? withoutPassword(url) : undefined;
}

/**
 * errorCode is a system error's code (ECONNREFUSED), or the first word of a Redis
 * reply (WRONGPASS). A cluster client that reached no node says why in lastNodeError.
 */
function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return /^[A-Z]+\b/.exec(err.message)?.[0] ?? errorCode((err as { lastNodeError?: unknown }).lastNodeError);
}
