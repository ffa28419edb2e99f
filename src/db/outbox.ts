import type { Db } from './database.ts';
import { statement } from './statements.ts';

/**
 * OutboxEntry is a job that has been saved in the database but is not in
 * Redis yet. `runAt` is when it becomes due, in epoch ms; `attempts` counts
 * failed tries to hand it to Redis; `traceparent` is the trace of the request
 * that wrote it, when tracing was on.
 */
export interface OutboxEntry {
  id: number;
  task: string;
  payload: unknown;
  queue: string;
  runAt: number;
  attempts: number;
  traceparent?: string;
}

/** NewOutboxEntry is a job to save for later. `payload` must survive JSON.stringify. */
export interface NewOutboxEntry {
  task: string;
  payload: unknown;
  queue: string;
  runAt: number;
  /** The W3C traceparent of the trace the job belongs to, if any. */
  traceparent?: string;
}

/** DeadOutboxEntry is an entry that Redis refused for good: `error` says why, `deadAt` when (epoch ms). */
export interface DeadOutboxEntry extends OutboxEntry {
  error: string;
  deadAt: number;
}

/** DEFAULT_PENDING_LIMIT is how many entries `pending()` returns when not told. */
export const DEFAULT_PENDING_LIMIT = 100;

interface OutboxRow {
  id: number;
  task: string;
  payload: string;
  queue: string;
  runAt: number;
  attempts: number;
  traceparent: string | null;
}

const COLUMNS = 'id, task, payload, queue, run_at AS runAt, attempts, traceparent';

/**
 * OutboxRepo stores jobs in the database until a relay hands them to Redis.
 * That way a request never loses work when Redis is down: it writes its row
 * and its outbox entry in one transaction, and the relay enqueues later.
 * Callers wrap the writes in `db.transaction(...)` themselves.
 */
export class OutboxRepo {
  constructor(private readonly db: Db) {}

  /** add saves a job and returns its outbox id. */
  add(entry: NewOutboxEntry): number {
    const { lastInsertRowid } = statement(this.db, 'INSERT INTO outbox (task, payload, queue, run_at, created_at, traceparent) VALUES (?, ?, ?, ?, ?, ?)').run(
      entry.task,
      JSON.stringify(entry.payload),
      entry.queue,
      entry.runAt,
      Date.now(),
      entry.traceparent ?? null,
    );
    return Number(lastInsertRowid);
  }

  /**
   * pending returns up to `limit` (default 100) unsent entries, oldest first,
   * including those not due yet: Redis holds those as delayed jobs. Dead
   * entries are left out.
   */
  pending(limit = DEFAULT_PENDING_LIMIT): OutboxEntry[] {
    const rows = statement<[number], OutboxRow>(
      this.db,
      `SELECT ${COLUMNS} FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT ?`,
    ).all(limit);
    return rows.map(toEntry);
  }

  /** markSent records that the entry is in Redis, so it is not sent again. */
  markSent(id: number): void {
    this.markAllSent([id]);
  }

  /** markAllSent records that all these entries are in Redis, in one UPDATE. */
  markAllSent(ids: readonly number[]): void {
    if (ids.length === 0) return;
    statement(this.db, 'UPDATE outbox SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))').run(Date.now(), JSON.stringify(ids));
  }

  /** markFailed counts a failed try to send the entry and keeps the error. It stays pending. */
  markFailed(id: number, error: string): void {
    statement(this.db, 'UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(error, id);
  }

  /**
   * markDead sets the entry aside for good, with the reason: Redis refused it
   * for something that waiting will not fix (its payload no longer fits its
   * task, say). pending() skips it from now on, until requeue().
   */
  markDead(id: number, error: string): void {
    statement(this.db, 'UPDATE outbox SET attempts = attempts + 1, last_error = ?, dead_at = ? WHERE id = ? AND sent_at IS NULL').run(error, Date.now(), id);
  }

  /** dead returns up to `limit` dead entries, oldest first, each with its reason. */
  dead(limit = DEFAULT_PENDING_LIMIT): DeadOutboxEntry[] {
    const rows = statement<[number], OutboxRow & { error: string | null; deadAt: number }>(
      this.db,
      `SELECT ${COLUMNS}, last_error AS error, dead_at AS deadAt FROM outbox WHERE dead_at IS NOT NULL ORDER BY id LIMIT ?`,
    ).all(limit);
    return rows.map(({ error, deadAt, ...row }) => ({ ...toEntry(row), error: error ?? '', deadAt }));
  }

  /**
   * requeue makes a dead entry pending again, after a fix, with its tries
   * counted from zero. It keeps its id, so it goes out ahead of newer rows.
   * Returns false when there is no dead entry with that id.
   */
  requeue(id: number): boolean {
    return statement(this.db, 'UPDATE outbox SET dead_at = NULL, attempts = 0 WHERE id = ? AND dead_at IS NOT NULL').run(id).changes === 1;
  }

  /** countPending returns how many entries wait to be sent (dead ones not counted). */
  countPending(): number {
    return statement<[], { count: number }>(this.db, 'SELECT count(*) AS count FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL').get()!.count;
  }

  /** countDead returns how many entries are dead. */
  countDead(): number {
    return statement<[], { count: number }>(this.db, 'SELECT count(*) AS count FROM outbox WHERE dead_at IS NOT NULL').get()!.count;
  }
}

/**
 * toEntry turns a row into an entry. A payload that is not JSON (only a hand
 * edit of the table makes one) comes back as its text: its task's schema then
 * refuses it, and the relay sets it aside instead of stopping on it.
 */
function toEntry({ traceparent, payload, ...row }: OutboxRow): OutboxEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    parsed = payload;
  }
  return { ...row, payload: parsed, ...(traceparent === null ? {} : { traceparent }) };
}
