import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { UserRepo } from '../../src/db/users.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { Uploads } from '../../src/storage/uploads.ts';

// The three jobs of an order must give up at once when the order, or its
// user, is gone: no retry brings them back, and 25 retries would take days.

let db: Db;
let orders: OrderRepo;
let handlers: Handlers;
const sent: string[] = [];
const mailer: Mailer = {
  async send(mail) {
    sent.push(mail.to);
  },
  async close() {},
};

beforeEach(() => {
  db = openDatabase(':memory:');
  db.prepare("INSERT INTO users (id, email, name, birthday) VALUES (7, 'kim@example.test', 'Kim', '1990-01-01')").run();
  db.prepare("INSERT INTO products (sku, name, price_cents, stock) VALUES ('mug', 'Mug', 1200, 10)").run();
  orders = new OrderRepo(db);
  handlers = new Handlers({ mailer, uploads: new Uploads('unused'), users: new UserRepo(db), orders, digestTo: 'shop@example.test' });
  sent.length = 0;
});

/** deleteUser removes the user under their orders, as an admin tool or a GDPR request might. */
function deleteUser(id: number) {
  db.pragma('foreign_keys = OFF');
  db.prepare('DELETE FROM users WHERE id = ?').run(id);
  db.pragma('foreign_keys = ON');
}

const orderJobs = {
  send_receipt: (order_id: number) => handlers.sendReceipt({ order_id }),
  update_inventory: (order_id: number) => handlers.updateInventory({ order_id }),
  ask_for_review: (order_id: number) => handlers.askForReview({ order_id }),
};

describe.each(Object.entries(orderJobs))('%s', (_task, run) => {
  it('is dead at once for an order that does not exist', async () => {
    await expect(run(404)).rejects.toMatchObject({ name: 'UnrecoverableError', message: 'order 404 does not exist' });
    expect(sent).toEqual([]);
  });

  it('is dead at once for an order whose user was deleted, and touches nothing', async () => {
    const order = orders.insert({ userId: 7, sku: 'mug', quantity: 2 });
    const stockBefore = orders.findProduct('mug')!.stock;
    deleteUser(7);

    await expect(run(order.id)).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: `user 7 of order ${order.id} does not exist`,
    });
    expect(sent).toEqual([]);
    expect(orders.findProduct('mug')!.stock).toBe(stockBefore);
  });
});
