import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { prepareDatabase } from '../support/database.ts';

// The whole lesson, as separate processes: API -> Redis -> worker -> SMTP -> inbox.
const inbox = createInbox(services());
let api: ChildScript;
let worker: ChildScript;
let baseUrl: string;
let uploadsDir: string;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  uploadsDir = mkdtempSync(join(tmpdir(), 'jobs-e2e-uploads-'));
  const env = {
    PORT: String(port),
    REDIS_URL: services().redisUrl,
    SMTP_URL: services().smtpUrl,
    QUEUE_PREFIX: uniquePrefix('e2e'),
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-e2e-')), 'app.db'),
    UPLOADS_DIR: uploadsDir,
  };
  prepareDatabase(env.DATABASE_PATH).close();
  api = spawnScript('src/cmd/api.ts', env, 'api');
  worker = spawnScript('src/cmd/worker.ts', env, 'worker');
  await Promise.all([api.waitForOutput(/API listening/, 20_000), worker.waitForOutput(/worker started/, 20_000)]);
});
afterAll(stopAll);

async function post(path: string, body?: unknown) {
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('the birthday flow, end to end', () => {
  it('POST /api/dev/send-birthday/1 puts a birthday email for user 1 in the inbox, and the worker logs the job', async () => {
    const { status, body } = await post('/api/dev/send-birthday/1');
    expect(status).toBe(202);

    const mail = await inbox.waitFor((m) => m.to.includes('ada@example.test') && /Happy birthday/.test(m.subject));
    expect(mail.subject).toBe('Happy birthday, Ada Lovelace!');
    expect(mail.html).toContain('Ada Lovelace');
    await worker.waitForOutput(new RegExp(`"job":"${body.job_id}".*"task":"send_birthday_email".*job done in \\d+ ms`));
  });

  it('escapes user data in the email: a name with HTML arrives as text', async () => {
    expect((await post('/api/dev/send-birthday/3')).status).toBe(202);
    const mail = await inbox.waitFor((m) => m.to.includes('bobby@example.test') && /Happy birthday/.test(m.subject));
    expect(mail.html).not.toContain('<b>"Tables"</b>');
    expect(mail.html).toContain('&lt;b&gt;');
  });
});

describe('an order, end to end', () => {
  it('answers 201 and the receipt email arrives', async () => {
    const { status, body } = await post('/api/orders', { user_id: 2, sku: 'sticker', quantity: 3 });
    expect(status).toBe(201);
    const mail = await inbox.waitFor((m) => m.subject === `Your receipt for order #${body.order.id}` && m.to.includes('grace@example.test'));
    expect(mail.to).toEqual(['grace@example.test']);
    await worker.waitForOutput(/"task":"update_inventory".*job done/);
  });
});

describe('an invoice, end to end', () => {
  it('answers 202, and the worker writes the invoice to the uploads from the low queue', async () => {
    const { body: created } = await post('/api/orders', { user_id: 3, sku: 'mug', quantity: 1 });
    const { status, body } = await post(`/api/orders/${created.order.id}/invoice`);
    expect(status).toBe(202);
    expect(body.queue).toBe('low');

    await worker.waitForOutput(new RegExp(`"job":"${body.job_id}".*"task":"generate_invoice".*job done`));
    const invoice = readFileSync(join(uploadsDir, `invoice-${created.order.id}.html`), 'utf8');
    expect(invoice).toContain(`<h1>Invoice #${created.order.id}</h1>`);
    expect(invoice).toContain('Bobby &lt;b&gt;&quot;Tables&quot;&lt;/b&gt; &amp; Co');
  });
});
