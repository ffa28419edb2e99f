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

  // A row that Redis refuses for a reason other than being unreachable (its
  // payload no longer fits the task's schema, say) is set aside as dead, so the
  // rows behind it still go out. dead_at is in epoch ms; NULL while the row
  // waits or once it is sent.
  `ALTER TABLE outbox ADD COLUMN dead_at INTEGER`,

  // Sign-up asks for an email and a name; the birthday may come later. SQLite
  // cannot drop a NOT NULL, so the table is rebuilt (migrate() turns foreign
  // keys off for this, and checks them before it commits).
  `CREATE TABLE users_new (
     id INTEGER PRIMARY KEY,
     email TEXT UNIQUE NOT NULL,
     name TEXT NOT NULL,
     birthday TEXT, -- YYYY-MM-DD, or NULL when not given
     created_at TEXT NOT NULL DEFAULT (datetime('now'))
   );
   INSERT INTO users_new (id, email, name, birthday, created_at) SELECT id, email, name, birthday, created_at FROM users;
   DROP TABLE users;
   ALTER TABLE users_new RENAME TO users`,
];

/**
 * migrate applies the migrations that this database has not run yet and
 * returns how many it applied. `PRAGMA user_version` counts the ones already
 * applied. They run in one IMMEDIATE transaction, which takes the write lock
 * before reading the version: the API and the worker often start at the same
 * moment, and this way the second one waits, then finds nothing left to do.
 * If a migration fails, everything rolls back and the error is thrown.
 *
 * Foreign keys are off while migrations run, so that one can rebuild a table
 * that others reference (SQLite's own procedure for schema changes it cannot
 * ALTER); `foreign_key_check` then proves, before the commit, that every
 * reference still holds.
 */
export function migrate(db: Db): number {
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF'); // a no-op inside a transaction, so set before it
  try {
    return db
      .transaction(() => {
        const applied = db.pragma('user_version', { simple: true }) as number;
        const pending = MIGRATIONS.slice(applied);
        for (const sql of pending) db.exec(sql);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`migration broke ${broken.length} foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`);
        // user_version lives in the file header and is part of the transaction.
        if (pending.length > 0) db.pragma(`user_version = ${MIGRATIONS.length}`);
        return pending.length;
      })
      .immediate();
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys}`);
  }
}
