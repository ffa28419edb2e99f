import { randomInt } from 'node:crypto';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { seed } from '../../src/db/seed.ts';

/**
 * prepareDatabase migrates and seeds the file, and makes its order ids start at
 * a random number. The inbox is shared with every suite that runs at the same
 * time, and each fresh database numbers its orders from 1: a placeholder order
 * (a sticker, already applied) makes the next ids, and so the receipts'
 * subjects, this suite's alone.
 */
export function prepareDatabase(path: string): Db {
  const db = openDatabase(path);
  seed(db);
  db.prepare(
    "INSERT INTO orders (id, user_id, sku, quantity, total_cents, inventory_updated_at) VALUES (?, 1, 'sticker', 1, 300, datetime('now'))",
  ).run(randomInt(1_000_000, 1_000_000_000));
  return db;
}
