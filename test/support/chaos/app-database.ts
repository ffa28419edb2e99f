import Database from 'better-sqlite3';

/** What the app's SQLite file says about orders and the outbox, read without the app's code. */
export interface DatabaseFacts {
  /** Outbox rows not handed to Redis yet. */
  outboxPending: number;
  /** Outbox rows in all. */
  outboxRows: number;
  /** Orders whose update_inventory has not run. */
  ordersNotInStock: number;
  stock: Record<string, number>;
}

export function readDatabaseFacts(databasePath: string): DatabaseFacts {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const products = db.prepare('SELECT sku, stock FROM products').all() as { sku: string; stock: number }[];
    return {
      outboxPending: count('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL'),
      outboxRows: count('SELECT count(*) AS n FROM outbox'),
      ordersNotInStock: count('SELECT count(*) AS n FROM orders WHERE inventory_updated_at IS NULL'),
      stock: Object.fromEntries(products.map((p) => [p.sku, p.stock])),
    };
  } finally {
    db.close();
  }
}
