import type { Db } from './database.ts';

/**
 * MIGRATIONS are the schema changes, oldest first. Each one runs once, in its
 * own transaction. To change the schema, append a new migration: never edit one
 * that has shipped, because databases out there have already run it.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY,
     email TEXT UNIQUE NOT NULL,
     name TEXT NOT NULL,
     birthday TEXT NOT NULL, -- YYYY-MM-DD
     created_at TEXT NOT NULL DEFAULT (datetime('now'))
   )`,

  `CREATE TABLE products (
     sku TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     price_cents INTEGER NOT NULL,
     stock INTEGER NOT NULL
   );
   CREATE TABLE orders (
     id INTEGER PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users (id),
     sku TEXT NOT NULL REFERENCES products (sku),
     quantity INTEGER NOT NULL CHECK (quantity > 0),
     total_cents INTEGER NOT NULL,
     created_at TEXT NOT NULL DEFAULT (datetime('now')),
     inventory_updated_at TEXT -- NULL until update_inventory has run
   );
   CREATE INDEX orders_created_at ON orders (created_at)`,

  `CREATE TABLE outbox (
     id INTEGER PRIMARY KEY,
     task TEXT NOT NULL,
     payload TEXT NOT NULL, -- JSON
     queue TEXT NOT NULL,
     run_at INTEGER NOT NULL, -- epoch ms when the job becomes due
     created_at INTEGER NOT NULL, -- epoch ms
     sent_at INTEGER, -- epoch ms; NULL until the job is in Redis
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   -- The relay only ever reads unsent rows, so only they are indexed.
   CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL`,

  // An order reserves its units when it is placed, and update_inventory takes
  // them off the stock later. Orders placed before this migration that are
  // still waiting for update_inventory reserved nothing, yet it will release
  // their units: reserve them now.
  `ALTER TABLE products ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0);
   UPDATE products SET reserved = (
     SELECT coalesce(sum(quantity), 0) FROM orders
     WHERE orders.sku = products.sku AND orders.inventory_updated_at IS NULL
   )`,

  // The trace of the request that wrote the row (W3C traceparent), so the relay
  // enqueues its job in that trace, however much later. NULL with tracing off.
  `ALTER TABLE outbox ADD COLUMN traceparent TEXT`,
];

/**
 * migrate applies the migrations that this database has not run yet and
 * returns how many it applied. `PRAGMA user_version` counts the ones already
 * applied. They run in one IMMEDIATE transaction, which takes the write lock
 * before reading the version: the API and the worker often start at the same
 * moment, and this way the second one waits, then finds nothing left to do.
 * If a migration fails, everything rolls back and the error is thrown.
 */
export function migrate(db: Db): number {
  return db
    .transaction(() => {
      const applied = db.pragma('user_version', { simple: true }) as number;
      const pending = MIGRATIONS.slice(applied);
      for (const sql of pending) db.exec(sql);
      // user_version lives in the file header and is part of the transaction.
      if (pending.length > 0) db.pragma(`user_version = ${MIGRATIONS.length}`);
      return pending.length;
    })
    .immediate();
}
