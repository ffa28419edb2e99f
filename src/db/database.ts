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
  if (!inMemory) db.pragma('journal_mode = WAL');
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
