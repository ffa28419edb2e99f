import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { MIGRATIONS, migrate } from '../../src/db/migrations.ts';
import { OrderError, OrderRepo } from '../../src/db/orders.ts';
import { OutboxRepo } from '../../src/db/outbox.ts';
import { SEED_PRODUCTS, SEED_USERS, seed } from '../../src/db/seed.ts';
import { UserRepo } from '../../src/db/users.ts';

let db: Db;

beforeEach(() => {
  db = openDatabase(':memory:');
});

afterEach(() => {
  db.close();
});

function count(table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

describe('migrations', () => {
  it('creates every table and records the version', () => {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(['orders', 'outbox', 'products', 'users']);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('applies nothing the second time', () => {
    expect(migrate(db)).toBe(0);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('opens a file in a new folder, in WAL mode, and migrates it once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'db-test-'));
    try {
      const path = join(root, 'data', 'app.db');
      const first = openDatabase(path);
      expect(existsSync(path)).toBe(true);
      expect(first.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(first.pragma('busy_timeout', { simple: true })).toBe(5_000);
      seed(first);
      first.close();

      const again = openDatabase(path);
      expect(again.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(new UserRepo(again).all()).toHaveLength(SEED_USERS.length);
      again.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('reserves, on upgrade, the units of the orders that update_inventory has not applied yet', () => {
    const reservations = MIGRATIONS.findIndex((sql) => sql.includes('ADD COLUMN reserved'));
    const old = new Database(':memory:');
    try {
      for (const sql of MIGRATIONS.slice(0, reservations)) old.exec(sql);
      old.pragma(`user_version = ${reservations}`);
      old.exec(`INSERT INTO users (id, email, name, birthday) VALUES (1, 'a@example.test', 'A', '2000-01-01');
        INSERT INTO products (sku, name, price_cents, stock) VALUES ('mug', 'Mug', 1200, 10), ('tee', 'Tee', 2500, 5);
        INSERT INTO orders (user_id, sku, quantity, total_cents, inventory_updated_at) VALUES
          (1, 'mug', 2, 2400, NULL), (1, 'mug', 3, 3600, NULL), (1, 'mug', 4, 4800, '2024-05-01 10:00:00')`);

      expect(migrate(old)).toBe(MIGRATIONS.length - reservations);
      const orders = new OrderRepo(old);
      expect(orders.findProduct('mug')).toMatchObject({ stock: 10, reserved: 5 });
      expect(orders.findProduct('tee')).toMatchObject({ stock: 5, reserved: 0 });
    } finally {
      old.close();
    }
  });

  it('rebuilds users, on upgrade, with an optional birthday, keeping the users and the references to them', () => {
    const rebuild = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE users_new'));
    const old = new Database(':memory:');
    try {
      old.pragma('foreign_keys = ON');
      for (const sql of MIGRATIONS.slice(0, rebuild)) old.exec(sql);
      old.pragma(`user_version = ${rebuild}`);
      old.exec(`INSERT INTO users (id, email, name, birthday) VALUES (7, 'a@example.test', 'A', '2000-01-01');
        INSERT INTO products (sku, name, price_cents, stock) VALUES ('mug', 'Mug', 1200, 10);
        INSERT INTO orders (user_id, sku, quantity, total_cents) VALUES (7, 'mug', 1, 1200)`);

      expect(migrate(old)).toBe(MIGRATIONS.length - rebuild);
      expect(new UserRepo(old).findById(7)).toEqual({ id: 7, email: 'a@example.test', name: 'A', birthday: '2000-01-01' });
      old.exec(`INSERT INTO users (id, email, name) VALUES (8, 'b@example.test', 'B')`);
      expect(new UserRepo(old).findById(8)?.birthday).toBeNull();
      // The orders still point at users, and the keys are on again after migrate().
      expect(old.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(() => old.exec('DELETE FROM users WHERE id = 7')).toThrow(/FOREIGN KEY/);
      expect(() => old.exec(`INSERT INTO orders (user_id, sku, quantity, total_cents) VALUES (99, 'mug', 1, 1200)`)).toThrow(/FOREIGN KEY/);
    } finally {
      old.close();
    }
  });

  it('rolls back a migration that leaves a reference broken', () => {
    const old = new Database(':memory:');
    try {
      old.pragma('foreign_keys = ON');
      for (const sql of MIGRATIONS) old.exec(sql);
      old.pragma(`user_version = ${MIGRATIONS.length}`);
      old.exec(`INSERT INTO products (sku, name, price_cents, stock) VALUES ('mug', 'Mug', 1200, 10)`);
      old.pragma('foreign_keys = OFF');
      old.exec(`INSERT INTO orders (user_id, sku, quantity, total_cents) VALUES (99, 'mug', 1, 1200)`);
      old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
      old.pragma('foreign_keys = ON');
      // The last migration runs again over a dangling order: the check refuses to commit it.
      expect(() => migrate(old)).toThrow(/broke 1 foreign key reference/);
      expect(old.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length - 1);
    } finally {
      old.close();
    }
  });

  it('enforces the foreign keys and the quantity check', () => {
    seed(db);
    const insert = db.prepare('INSERT INTO orders (user_id, sku, quantity, total_cents) VALUES (?, ?, ?, ?)');
    expect(() => insert.run(99, 'mug', 1, 1200)).toThrow(/FOREIGN KEY/);
    expect(() => insert.run(1, 'mug', 0, 0)).toThrow(/CHECK/);
  });
});

describe('seed', () => {
  it('adds the users and products once, however often it runs', () => {
    seed(db);
    seed(db);
    expect(count('users')).toBe(SEED_USERS.length);
    expect(count('products')).toBe(SEED_PRODUCTS.length);
    expect(new UserRepo(db).findById(1)).toEqual({
      id: 1,
      email: 'ada@example.test',
      name: 'Ada Lovelace',
      birthday: '1815-12-10',
    });
  });

  it('does not reset stock that orders have used', () => {
    seed(db);
    const orders = new OrderRepo(db);
    const order = orders.insert({ userId: 1, sku: 'mug', quantity: 3 });
    orders.applyInventory(order.id);
    seed(db);
    expect(orders.findProduct('mug')?.stock).toBe(97);
  });
});

describe('UserRepo', () => {
  it('finds users by id and lists them all', () => {
    seed(db);
    const users = new UserRepo(db);
    expect(users.findById(404)).toBeUndefined();
    expect(users.all().map((u) => u.name)).toEqual(SEED_USERS.map((u) => u.name));
  });
});

describe('OrderRepo', () => {
  let orders: OrderRepo;

  beforeEach(() => {
    seed(db);
    orders = new OrderRepo(db);
  });

  it('computes the total from the product price', () => {
    const order = orders.insert({ userId: 2, sku: 'mug', quantity: 3 });
    expect(order).toMatchObject({ userId: 2, sku: 'mug', quantity: 3, totalCents: 3_600, inventoryUpdatedAt: null });
    expect(order.createdAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(orders.findById(order.id)).toEqual(order);
  });

  it('rejects unknown products, unknown users and bad quantities', () => {
    expect(() => orders.insert({ userId: 1, sku: 'nope', quantity: 1 })).toThrow(
      new OrderError("unknown product 'nope'"),
    );
    expect(() => orders.insert({ userId: 7, sku: 'mug', quantity: 1 })).toThrow(new OrderError('unknown user 7'));
    expect(() => orders.insert({ userId: 1, sku: 'mug', quantity: 0 })).toThrow(OrderError);
    expect(() => orders.insert({ userId: 1, sku: 'mug', quantity: 1.5 })).toThrow(OrderError);
    expect(count('orders')).toBe(0);
  });

  it('applies the inventory once, even when the job runs twice', () => {
    const order = orders.insert({ userId: 1, sku: 'tee', quantity: 4 });
    const stockBefore = orders.findProduct('tee')!.stock;

    expect(orders.applyInventory(order.id)).toBe(true);
    expect(orders.findProduct('tee')!.stock).toBe(stockBefore - 4);
    expect(orders.findById(order.id)!.inventoryUpdatedAt).not.toBeNull();

    expect(orders.applyInventory(order.id)).toBe(false);
    expect(orders.findProduct('tee')!.stock).toBe(stockBefore - 4);
  });

  it('throws for an order that does not exist', () => {
    expect(() => orders.applyInventory(404)).toThrow(new OrderError('unknown order 404'));
  });

  it('finds the orders created in a time window', () => {
    const insertAt = db.prepare("INSERT INTO orders (user_id, sku, quantity, total_cents, created_at) VALUES (1, 'mug', 1, 1200, ?)");
    const early = Number(insertAt.run('2024-05-01 23:59:59').lastInsertRowid);
    const inside = Number(insertAt.run('2024-05-02 10:00:00').lastInsertRowid);
    const late = Number(insertAt.run('2024-05-03 00:00:00').lastInsertRowid);

    const ids = (since: string | Date, until?: string | Date) => orders.createdSince(since, until).map((o) => o.id);
    expect(ids('2024-05-02', '2024-05-03')).toEqual([inside]);
    expect(ids(new Date('2024-05-02T00:00:00Z'), new Date('2024-05-03T00:00:00Z'))).toEqual([inside]);
    expect(ids('2024-05-02T00:00:00.000Z')).toEqual([inside, late]);
    expect(ids('2024-05-01')).toEqual([early, inside, late]);
    expect(() => orders.createdSince('yesterday-ish')).toThrow(RangeError);
  });

  it('rolls the order back with the outbox entry when the transaction fails', () => {
    const outbox = new OutboxRepo(db);
    const placeOrder = db.transaction(() => {
      const order = orders.insert({ userId: 1, sku: 'mug', quantity: 1 });
      outbox.add({ task: 'send_receipt', payload: { order_id: order.id }, queue: 'critical', runAt: Date.now() });
      throw new Error('crash after both writes');
    });
    expect(() => placeOrder()).toThrow('crash after both writes');
    expect(count('orders')).toBe(0);
    expect(outbox.countPending()).toBe(0);
  });
});

describe('OutboxRepo', () => {
  it('keeps entries pending, oldest first, until they are sent', () => {
    const outbox = new OutboxRepo(db);
    const first = outbox.add({ task: 'send_receipt', payload: { order_id: 1 }, queue: 'critical', runAt: 1_000 });
    const second = outbox.add({ task: 'ask_for_review', payload: { order_id: 1 }, queue: 'low', runAt: 2_000 });
    expect(outbox.countPending()).toBe(2);
    expect(outbox.pending()).toEqual([
      { id: first, task: 'send_receipt', payload: { order_id: 1 }, queue: 'critical', runAt: 1_000, attempts: 0 },
      { id: second, task: 'ask_for_review', payload: { order_id: 1 }, queue: 'low', runAt: 2_000, attempts: 0 },
    ]);
    expect(outbox.pending(1).map((e) => e.id)).toEqual([first]);

    outbox.markSent(first);
    expect(outbox.countPending()).toBe(1);
    expect(outbox.pending().map((e) => e.id)).toEqual([second]);
  });

  it('counts failed sends and keeps the error, and the entry stays pending', () => {
    const outbox = new OutboxRepo(db);
    const id = outbox.add({ task: 'send_welcome', payload: { to: 'a@example.test', name: 'A' }, queue: 'default', runAt: 0 });
    outbox.markFailed(id, 'ECONNREFUSED');
    outbox.markFailed(id, 'Connection is closed.');

    expect(outbox.pending()[0]?.attempts).toBe(2);
    const row = db.prepare('SELECT last_error AS lastError, sent_at AS sentAt FROM outbox WHERE id = ?').get(id);
    expect(row).toEqual({ lastError: 'Connection is closed.', sentAt: null });
  });

  it('marks a batch sent in one call, and leaves the other entries pending', () => {
    const outbox = new OutboxRepo(db);
    const ids = [1, 2, 3, 4].map((n) => outbox.add({ task: 'send_receipt', payload: { order_id: n }, queue: 'critical', runAt: 0 }));
    outbox.markAllSent([ids[0]!, ids[2]!]);
    outbox.markAllSent([]);
    expect(outbox.pending().map((e) => e.id)).toEqual([ids[1], ids[3]]);
  });

  it('sets a dead entry aside with its reason, lists it, and requeues it once', () => {
    const outbox = new OutboxRepo(db);
    const poison = outbox.add({ task: 'send_receipt', payload: { order: 'x' }, queue: 'critical', runAt: 0 });
    const good = outbox.add({ task: 'send_receipt', payload: { order_id: 2 }, queue: 'critical', runAt: 0 });
    outbox.markFailed(poison, 'Connection is closed.');
    outbox.markDead(poison, 'payload: order_id is required');

    expect(outbox.pending().map((e) => e.id)).toEqual([good]);
    expect(outbox.countPending()).toBe(1);
    expect(outbox.countDead()).toBe(1);
    expect(outbox.dead()).toEqual([
      { id: poison, task: 'send_receipt', payload: { order: 'x' }, queue: 'critical', runAt: 0, attempts: 2, error: 'payload: order_id is required', deadAt: expect.any(Number) },
    ]);

    expect(outbox.requeue(good)).toBe(false); // not dead
    expect(outbox.requeue(poison)).toBe(true);
    expect(outbox.requeue(poison)).toBe(false); // already pending
    expect(outbox.countDead()).toBe(0);
    expect(outbox.pending().map((e) => [e.id, e.attempts])).toEqual([
      [poison, 0],
      [good, 0],
    ]);
  });

  it('does not mark a sent entry dead', () => {
    const outbox = new OutboxRepo(db);
    const id = outbox.add({ task: 'send_receipt', payload: { order_id: 1 }, queue: 'critical', runAt: 0 });
    outbox.markSent(id);
    outbox.markDead(id, 'too late');
    expect(outbox.countDead()).toBe(0);
  });

  it('hands back a payload that is not JSON as its text, rather than throwing', () => {
    const outbox = new OutboxRepo(db);
    const id = outbox.add({ task: 'send_receipt', payload: { order_id: 1 }, queue: 'critical', runAt: 0 });
    db.prepare('UPDATE outbox SET payload = ? WHERE id = ?').run('{"order_id": 1', id);
    expect(outbox.pending()[0]?.payload).toBe('{"order_id": 1');
  });
});
