// An outbox full of the jobs that orders write, for the relay to send: the
// orders go through the real OrderService, so the rows are whatever
// `POST /api/orders` writes (tasks, payloads, queues, delays).
import { openDatabase } from '../src/db/database.ts';
import { OrderRepo } from '../src/db/orders.ts';
import { OutboxRepo, type OutboxEntry } from '../src/db/outbox.ts';
import { seedCatalog, seedDemoUsers } from '../src/db/seed.ts';
import { OutboxWriter } from '../src/jobs/outbox.ts';
import { OrderService } from '../src/services/orders.ts';

/** What fillOutbox wrote. */
export interface FilledOutbox {
  orders: number;
  /** Every row, oldest first, as the relay reads them. */
  rows: OutboxEntry[];
  /** When the orders were placed (epoch ms): a row due later is a delayed job. */
  placedAt: number;
}

const ORDER = { userId: 1, sku: 'sticker', quantity: 1 };

/**
 * fillOutbox creates a SQLite file at `path` and places orders through
 * OrderService until the outbox holds at least `rows` rows, all unsent; then
 * it closes the file, so that copies of it are whole.
 */
export function fillOutbox(path: string, rows: number): FilledOutbox {
  const db = openDatabase(path);
  try {
    seedCatalog(db);
    seedDemoUsers(db);
    const outbox = new OutboxRepo(db);
    const orders = new OrderService(db, new OrderRepo(db), new OutboxWriter(outbox), () => {});
    const placedAt = Date.now();
    // One order first, to learn how many rows an order writes.
    db.prepare('UPDATE products SET stock = ? WHERE sku = ?').run(Number.MAX_SAFE_INTEGER, ORDER.sku);
    orders.create(ORDER);
    const perOrder = outbox.countPending();
    const count = Math.ceil(rows / perOrder);
    // One commit for all of them: only the rows matter here, not how fast they were written.
    db.transaction(() => {
      for (let i = 1; i < count; i++) orders.create(ORDER);
    })();
    return { orders: count, rows: outbox.pending(Number.MAX_SAFE_INTEGER), placedAt };
  } finally {
    db.close();
  }
}

/** describeJobs names each task once, with its queue and, for a delayed one, how far ahead it is due: "send_receipt on default, …". */
export function describeJobs({ rows, placedAt }: FilledOutbox): string {
  const byTask = new Map<string, string>();
  for (const row of rows) {
    if (byTask.has(row.task)) continue;
    const days = (row.runAt - placedAt) / 86_400_000;
    byTask.set(row.task, `${row.task} on ${row.queue}${days >= 1 ? `, due in ${Math.round(days)} days` : ''}`);
  }
  return [...byTask.values()].join('; ');
}
