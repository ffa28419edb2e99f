import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { OrderError, OrderRepo, OutOfStockError } from '../../src/db/orders.ts';
import { seed } from '../../src/db/seed.ts';
import { UserRepo } from '../../src/db/users.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';
import { prepareDatabase } from '../support/database.ts';

// An order reserves its quantity when it is placed; update_inventory later
// takes it off the stock and releases the reservation. The shop never sells
// what it does not have, even when orders race for the last units.

/** mugs reads the mug's row: what is on the shelf, and how much of it orders hold. */
function mugs(db: Db) {
  return db.prepare<[], { stock: number; reserved: number }>("SELECT stock, reserved FROM products WHERE sku = 'mug'").get()!;
}

function count(db: Db, table: string): number {
  return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
}

describe('reserving stock', () => {
  let db: Db;
  let orders: OrderRepo;

  beforeEach(() => {
    db = openDatabase(':memory:');
    seed(db);
    db.prepare("UPDATE products SET stock = 10 WHERE sku = 'mug'").run();
    orders = new OrderRepo(db);
  });
  afterEach(() => db.close());

  it('reserves the quantity when the order is placed, and leaves the stock to update_inventory', () => {
    orders.insert({ userId: 1, sku: 'mug', quantity: 4 });
    expect(mugs(db)).toEqual({ stock: 10, reserved: 4 });
  });

  it('refuses more than is left, counting what other orders reserved, and writes nothing', () => {
    orders.insert({ userId: 1, sku: 'mug', quantity: 7 });

    const tooMany = () => orders.insert({ userId: 2, sku: 'mug', quantity: 5 });
    expect(tooMany).toThrow(new OutOfStockError('mug', 3, 5));
    expect(tooMany).toThrow('only 3 mug left, you asked for 5');
    expect(count(db, 'orders')).toBe(1);
    expect(mugs(db)).toEqual({ stock: 10, reserved: 7 });

    orders.insert({ userId: 2, sku: 'mug', quantity: 3 });
    expect(mugs(db)).toEqual({ stock: 10, reserved: 10 });
    expect(() => orders.insert({ userId: 2, sku: 'mug', quantity: 1 })).toThrow('mug is sold out');
  });

  it('is an OrderError, so callers that know only OrderError still refuse the order', () => {
    expect(new OutOfStockError('mug', 0, 1)).toBeInstanceOf(OrderError);
  });

  it('releases the reservation when the order fails after reserving (unknown user)', () => {
    expect(() => orders.insert({ userId: 404, sku: 'mug', quantity: 2 })).toThrow(new OrderError('unknown user 404'));
    expect(mugs(db)).toEqual({ stock: 10, reserved: 0 });
  });

  it('a retried update_inventory takes the stock once and releases the reservation once', async () => {
    const noMail: Mailer = { async send() {}, async close() {} };
    const handlers = new Handlers({ mailer: noMail, uploads: new Uploads('unused'), users: new UserRepo(db), orders, digestTo: 'shop@example.test' });
    const first = orders.insert({ userId: 1, sku: 'mug', quantity: 4 });
    orders.insert({ userId: 2, sku: 'mug', quantity: 3 }); // not applied yet: its 3 stay reserved
    expect(mugs(db)).toEqual({ stock: 10, reserved: 7 });

    await handlers.updateInventory({ order_id: first.id });
    await handlers.updateInventory({ order_id: first.id }); // a retry, or a duplicate delivery
    expect(mugs(db)).toEqual({ stock: 6, reserved: 3 });
  });
});


/** startApis starts `count` API processes on the same env (so on one database file) and returns their addresses. */
async function startApis(count: number, env: Record<string, string>) {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const apis = ports.map((port, i) => spawnScript('src/cmd/api.ts', { ...env, PORT: String(port) }, `api-${i + 1}`));
  // Generous: several tsx processes starting at once on a busy machine are slow.
  await Promise.all(apis.map((api) => api.waitForOutput(/API listening/, 45_000)));
  return { apis, baseUrls: ports.map((port) => `http://127.0.0.1:${port}`) };
}

/** orderAtOnce posts `count` orders all at once, spread over the APIs in turn, and returns the answers. */
function orderAtOnce(baseUrls: string[], count: number, order: { user_id: number; sku: string; quantity: number }) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await fetch(`${baseUrls[i % baseUrls.length]}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    }),
  );
}

/** countBy counts the answers per status: { 201: 100, 409: 100 }. */
function countBy(answers: { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('orders racing for the last mugs, on three API processes that share one database', () => {
  afterAll(stopAll);

  it('sells exactly the 100 in stock: 100 answer 201, 100 answer 409, and the worker takes the stock to 0', { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stock-race-'));
    const databasePath = join(dir, 'app.db');
    const env = {
      REDIS_URL: services().redisUrl,
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: uniquePrefix('stock-race'),
      DATABASE_PATH: databasePath,
      UPLOADS_DIR: join(dir, 'uploads'),
    };
    const db = prepareDatabase(databasePath);
    onTestFinished(() => {
      db.close();
    });
    const { apis, baseUrls } = await startApis(3, env);

    // The seed stocks 100 mugs.
    const answers = await orderAtOnce(baseUrls, 200, { user_id: 1, sku: 'mug', quantity: 1 });

    const failures = apis.flatMap((api) => api.output().split('\n').filter((line) => line.includes('request failed')));
    const logged = failures.slice(0, 3).map((line) => line.slice(0, 300));
    expect(countBy(answers), `what the APIs logged:\n${logged.join('\n')}`).toEqual({ 201: 100, 409: 100 });
    const refusals = answers.filter((answer) => answer.status === 409).map((answer) => answer.body.error);
    expect(new Set(refusals)).toEqual(new Set(['mug is sold out']));

    const mugOrders = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM orders WHERE sku = 'mug'");
    expect(mugOrders.get()!.n).toBe(100);
    expect(mugs(db), 'before the worker runs, the orders hold all 100').toEqual({ stock: 100, reserved: 100 });

    const worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    await worker.waitForOutput(/worker started/, 45_000);
    const unapplied = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM orders WHERE inventory_updated_at IS NULL');
    let lowestStock = Infinity;
    let lowestLeft = Infinity;
    await waitUntil(
      'the worker to apply all 100 orders',
      () => {
        const { stock, reserved } = mugs(db);
        lowestStock = Math.min(lowestStock, stock);
        lowestLeft = Math.min(lowestLeft, stock - reserved);
        return unapplied.get()!.n === 0;
      },
      60_000,
    );
    expect(mugs(db)).toEqual({ stock: 0, reserved: 0 });
    expect({ lowestStock, lowestLeft }, 'never below 0 while the worker applied the orders').toEqual({ lowestStock: 0, lowestLeft: 0 });
  });
});
