import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';

/** Db is an open better-sqlite3 connection. */
export type Db = Database.Database;

/** IN_MEMORY is the path that opens a private database that lives in memory. */
export const IN_MEMORY = ':memory:';

/**
 * BUSY_TIMEOUT_MS is how long a write waits for another process (the API and
 * the worker share the file) to finish its write before it fails with
 * SQLITE_BUSY.
 */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * openDatabase opens (or creates) the SQLite file at `path` and brings its
 * schema up to date. It creates the parent folder if it is missing. Pass
 * ':memory:' for a throwaway database, as tests do. Close it with `db.close()`.
 */
export function openDatabase(path: string): Db {
  const inMemory = path === IN_MEMORY;
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });

  const db = new Database(path);
  // WAL lets the API read while the worker writes. It needs a real file.
  if (!inMemory) turnWalOn(db);
  // With WAL, NORMAL syncs the file at checkpoints instead of at every commit,
  // SQLite's advice for WAL. A commit stays atomic, and survives the process
  // being killed; only a power cut can lose the last commits. At FULL, every
  // commit waits for an fsync: an order's own, then the relay's for its rows,
  // which set the orders' p99 under load (see BENCHMARKS.md).
  db.pragma('synchronous = NORMAL');
  // SQLite ignores REFERENCES unless this is on, per connection.
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  migrate(db);
  return db;
}

/**
 * turnWalOn puts the file in WAL mode. On a new file, `npm start`'s processes
 * all do it at once, while one of them may already be writing its schema.
 * SQLite then answers SQLITE_BUSY at once, without waiting as busy_timeout
 * says: the connection has read the file and wants to lock it for writing
 * while another holds that lock, and waiting could deadlock. So it tries
 * again, for BUSY_TIMEOUT_MS at most.
 */
function turnWalOn(db: Db): void {
  const giveUpAt = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > giveUpAt) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
