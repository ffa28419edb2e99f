import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { seed } from '../../src/db/seed.ts';
import { UserRepo } from '../../src/db/users.ts';
import { Handlers } from '../../src/jobs/handlers.ts';
import { ServeMux } from '../../src/jobs/mux.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { StorageUnavailableError, Uploads } from '../../src/storage/uploads.ts';
import { createInbox } from '../support/services/inbox.ts';
import { services } from '../support/services/services.ts';

const inbox = createInbox(services());
const mailer = createSmtpMailer(services().smtpUrl, 'Workshop Shop <shop@example.test>');
afterAll(() => mailer.close());

const NOW = new Date('2026-11-28T02:00:00Z');
let db: ReturnType<typeof openDatabase>;
let uploads: Uploads;
let handlers: Handlers;
beforeEach(() => {
  db = openDatabase(':memory:');
  seed(db);
  uploads = new Uploads(mkdtempSync(join(tmpdir(), 'uploads-')));
  handlers = new Handlers({ mailer, uploads, users: new UserRepo(db), orders: new OrderRepo(db), digestTo: `digest-${Date.now()}@example.test`, now: () => NOW });
});

describe('Handlers.register', () => {
  it('registers a handler for every task of the lesson', () => {
    const mux = new ServeMux();
    handlers.register(mux);
    expect(mux.tasks().sort()).toEqual([
      'ask_for_review',
      'cleanup_uploads',
      'generate_invoice',
      'nightly_digest',
      'resize_image',
      'send_birthday_email',
      'send_receipt',
      'send_welcome',
      'update_inventory',
    ]);
  });
});

describe('mail handlers', () => {
  it('send_welcome mails the new user', async () => {
    const to = `welcome-${Date.now()}@example.test`;
    await handlers.sendWelcome({ to, name: 'Katherine' });
    const mail = await inbox.waitFor((m) => m.to.includes(to));
    expect(mail.subject).toBe('Welcome, Katherine!');
  });

  it('send_birthday_email gives up at once on a user that does not exist', async () => {
    await expect(handlers.sendBirthdayEmail({ user_id: 404 })).rejects.toMatchObject({ name: 'UnrecoverableError', message: 'user 404 does not exist' });
  });

  it('nightly_digest mails the last 24 hours of orders', async () => {
    const orders = new OrderRepo(db);
    const order = orders.insert({ userId: 1, sku: 'mug', quantity: 1 });
    db.prepare("UPDATE orders SET created_at = '2026-11-28 01:00:00' WHERE id = ?").run(order.id);
    const old = orders.insert({ userId: 1, sku: 'tee', quantity: 1 });
    db.prepare("UPDATE orders SET created_at = '2026-11-20 01:00:00' WHERE id = ?").run(old.id);

    await handlers.nightlyDigest();
    const mail = await inbox.waitFor((m) => m.subject === 'Nightly digest for 2026-11-28' && m.to[0]!.startsWith('digest-'));
    expect(mail.text).toContain('Orders: 1\n');
    expect(mail.text).toContain('$12.00');
  });
});

describe('update_inventory', () => {
  it('takes the order off the stock once, however often it runs', async () => {
    const orders = new OrderRepo(db);
    const order = orders.insert({ userId: 1, sku: 'mug', quantity: 3 });
    const stock = () => orders.findProduct('mug')!.stock;
    const before = stock();

    await handlers.updateInventory({ order_id: order.id });
    await handlers.updateInventory({ order_id: order.id }); // a retry, or a duplicate delivery
    expect(stock()).toBe(before - 3);
  });
});

describe('resize_image', () => {
  it('writes a resized copy beside the upload', async () => {
    const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#3366ff' } }).png().toBuffer();
    await uploads.write('banner.png', png);

    await handlers.resizeImage({ upload: 'banner.png', width: 100 });
    const meta = await sharp(await uploads.read('banner-w100.png')).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 100, height: 50 });
  });

  it('gives up at once on an upload that is missing, badly named or not an image', async () => {
    await uploads.write('notes.png', Buffer.from('not a png'));
    for (const upload of ['missing.png', '../etc/passwd', 'notes.png']) {
      await expect(handlers.resizeImage({ upload, width: 100 })).rejects.toMatchObject({ name: 'UnrecoverableError' });
    }
  });

  it('fails, to be retried, while storage is down', async () => {
    uploads.setUnavailable(true);
    await expect(handlers.resizeImage({ upload: 'banner.png', width: 100 })).rejects.toThrow(StorageUnavailableError);
  });

  it('fails, to be retried, while the uploads folder is missing (not dead, as a missing file would be)', async () => {
    rmSync(uploads.dir, { recursive: true });
    await expect(handlers.resizeImage({ upload: 'banner.png', width: 100 })).rejects.toThrow(StorageUnavailableError);
  });
});

describe('cleanup_uploads', () => {
  it('removes uploads older than the limit and keeps the rest', async () => {
    await uploads.write('old.png', Buffer.from('old'));
    await uploads.write('new.png', Buffer.from('new'));
    const twoDaysAgo = new Date(NOW.getTime() - 48 * 60 * 60 * 1_000);
    utimesSync(join(uploads.dir, 'old.png'), twoDaysAgo, twoDaysAgo);
    utimesSync(join(uploads.dir, 'new.png'), NOW, NOW);

    await handlers.cleanupUploads({});
    expect((await uploads.list()).map((f) => f.name)).toEqual(['new.png']);
  });
});

describe('generate_invoice', () => {
  it('writes the invoice to the uploads, with HTML in the customer\'s name shown as text', async () => {
    const order = new OrderRepo(db).insert({ userId: 3, sku: 'tee', quantity: 2 });

    await handlers.generateInvoice({ order_id: order.id });
    const invoice = (await uploads.read(`invoice-${order.id}.html`)).toString();
    expect(invoice).toContain(`<h1>Invoice #${order.id}</h1>`);
    expect(invoice).toContain(`Date: ${order.createdAt.slice(0, 10)}`);
    expect(invoice).toContain('Bobby &lt;b&gt;&quot;Tables&quot;&lt;/b&gt; &amp; Co<br>bobby@example.test');
    expect(invoice).not.toContain('<b>"Tables"</b>');
    expect(invoice).toContain('<td>tee</td><td align="right">2</td><td align="right">$50.00</td>');
  });

  it('leaves one identical file when it runs again', async () => {
    const order = new OrderRepo(db).insert({ userId: 1, sku: 'mug', quantity: 1 });
    await handlers.generateInvoice({ order_id: order.id });
    const first = await uploads.read(`invoice-${order.id}.html`);

    await handlers.generateInvoice({ order_id: order.id }); // a retry, or a second request
    expect((await uploads.list()).map((f) => f.name)).toEqual([`invoice-${order.id}.html`]);
    expect(await uploads.read(`invoice-${order.id}.html`)).toEqual(first);
  });

  it('gives up at once on an order that does not exist, and writes nothing', async () => {
    await expect(handlers.generateInvoice({ order_id: 404 })).rejects.toMatchObject({ name: 'UnrecoverableError', message: 'order 404 does not exist' });
    expect(await uploads.list()).toEqual([]);
  });

  it('fails, to be retried, while storage is down', async () => {
    const order = new OrderRepo(db).insert({ userId: 1, sku: 'mug', quantity: 1 });
    uploads.setUnavailable(true);
    await expect(handlers.generateInvoice({ order_id: order.id })).rejects.toThrow(StorageUnavailableError);
  });
});
