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
   * including those not due yet: Redis holds those as delayed jobs.
   */
  pending(limit = DEFAULT_PENDING_LIMIT): OutboxEntry[] {
    const rows = statement<[number], OutboxRow>(
      this.db,
      `SELECT id, task, payload, queue, run_at AS runAt, attempts, traceparent FROM outbox
       WHERE sent_at IS NULL ORDER BY id LIMIT ?`,
    ).all(limit);
    return rows.map(({ traceparent, ...row }) => ({
      ...row,
      payload: JSON.parse(row.payload) as unknown,
      ...(traceparent === null ? {} : { traceparent }),
    }));
  }

  /** markSent records that the entry is in Redis, so it is not sent again. */
  markSent(id: number): void {
    statement(this.db, 'UPDATE outbox SET sent_at = ? WHERE id = ?').run(Date.now(), id);
  }

  /** markFailed counts a failed try to send the entry and keeps the error. It stays pending. */
  markFailed(id: number, error: string): void {
    statement(this.db, 'UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(error, id);
  }

  /** countPending returns how many entries are not sent yet. */
  countPending(): number {
    return statement<[], { count: number }>(this.db, 'SELECT count(*) AS count FROM outbox WHERE sent_at IS NULL').get()!.count;
  }
}
