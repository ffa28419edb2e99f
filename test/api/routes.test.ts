import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderRepo } from '../../src/db/orders.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { INVOICE_MAX_RETRY } from '../../src/services/invoices.ts';
import { REVIEW_REQUEST_DELAY_MS } from '../../src/services/orders.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api') });
beforeAll(() => waitUntil('the producer connection', () => bed.redis.status === 'ready'));
afterAll(() => bed.close());

describe('GET /healthz', () => {
  it('answers 200', async () => {
    const res = await bed.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('POST /api/orders', () => {
  it('creates the order and enqueues its three jobs: two now, the review in 7 days', async () => {
    const before = Date.now();
    const { status, body } = await bed.post('/api/orders', { user_id: 1, sku: 'mug', quantity: 2 });
    expect(status).toBe(201);
    expect(body.order).toMatchObject({ userId: 1, sku: 'mug', quantity: 2, totalCents: 2400 });

    const orderId = body.order.id;
    await bed.relay.idle();
    const jobs = await bed.jobs.queue('default').getJobs(['waiting', 'delayed']);
    const forOrder = jobs.filter((job) => job.data.order_id === orderId);
    expect(forOrder.map((job) => job.name).sort()).toEqual(['ask_for_review', 'send_receipt', 'update_inventory']);

    for (const job of forOrder) {
      const state = await job.getState();
      if (job.name === 'ask_for_review') {
        expect(state).toBe('delayed');
        expect(job.timestamp + job.delay).toBeGreaterThanOrEqual(before + REVIEW_REQUEST_DELAY_MS);
        expect(job.timestamp + job.delay).toBeLessThan(before + REVIEW_REQUEST_DELAY_MS + 60_000);
      } else {
        expect(state).toBe('waiting');
        expect(job.delay).toBe(0);
      }
    }
  });

  it('answers 400 with a message for a body that is not JSON', async () => {
    expect(await bed.post('/api/orders', '{"user_id": 1,')).toEqual({ status: 400, body: { error: 'body must be JSON' } });
  });

  it('answers 400 naming each bad field', async () => {
    const { status, body } = await bed.post('/api/orders', { user_id: 'one', sku: '', quantity: 0 });
    expect(status).toBe(400);
    expect(body.error).toMatch(/user_id: .*; sku: .*; quantity: /);
  });

  it('answers 422 for a product or user that does not exist, and enqueues nothing', async () => {
    const pendingBefore = bed.outbox.countPending();
    expect(await bed.post('/api/orders', { user_id: 1, sku: 'unicorn', quantity: 1 })).toEqual({ status: 422, body: { error: "unknown product 'unicorn'" } });
    expect((await bed.post('/api/orders', { user_id: 999, sku: 'mug', quantity: 1 })).status).toBe(422);
    expect(bed.outbox.countPending()).toBe(pendingBefore);
  });

  it('answers 409 with how many are left when the stock runs out, and enqueues nothing', async () => {
    bed.db.prepare("UPDATE products SET stock = 3 WHERE sku = 'tee'").run();
    const pendingBefore = bed.outbox.countPending();

    expect(await bed.post('/api/orders', { user_id: 1, sku: 'tee', quantity: 5 })).toEqual({ status: 409, body: { error: 'only 3 tee left, you asked for 5' } });
    expect(bed.outbox.countPending()).toBe(pendingBefore);
    expect((await bed.post('/api/orders', { user_id: 1, sku: 'tee', quantity: 3 })).status).toBe(201);
    expect(await bed.post('/api/orders', { user_id: 2, sku: 'tee', quantity: 1 })).toEqual({ status: 409, body: { error: 'tee is sold out' } });
  });

  it('answers 400 for a sku longer than 64 characters, without echoing it', async () => {
    const { status, body } = await bed.post('/api/orders', { user_id: 1, sku: 'x'.repeat(10_000), quantity: 1 });
    expect(status).toBe(400);
    expect(body.error).toMatch(/^sku: /);
    expect(body.error).not.toContain('xxxx');
  });
});

describe('POST /api/orders/:id/invoice', () => {
  it('answers 202 and enqueues generate_invoice on the low queue, with its own retry limit', async () => {
    const order = new OrderRepo(bed.db).insert({ userId: 3, sku: 'mug', quantity: 1 });
    const { status, body } = await bed.post(`/api/orders/${order.id}/invoice`);
    expect(status).toBe(202);
    expect(body).toEqual({ job_id: expect.any(String), queue: 'low' });

    const job = await bed.jobs.queue('low').getJob(body.job_id);
    expect(job?.name).toBe('generate_invoice');
    expect(job?.data).toEqual({ order_id: order.id });
    expect(job?.opts.attempts).toBe(INVOICE_MAX_RETRY + 1);
  });

  it('answers 404 for an order that does not exist, and enqueues nothing', async () => {
    const before = await bed.jobs.queue('low').count();
    expect(await bed.post('/api/orders/999/invoice')).toEqual({ status: 404, body: { error: 'order 999 not found' } });
    expect(await bed.jobs.queue('low').count()).toBe(before);
  });

  it('answers 400 for an id that is not a positive whole number', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '1e3']) {
      expect(await bed.post(`/api/orders/${bad}/invoice`)).toEqual({
        status: 400,
        body: { error: `id must be a positive whole number, got "${bad}"` },
      });
    }
  });

  it('answers 503 at once while Redis cannot be reached', async () => {
    const down = apiTestbed({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: uniquePrefix('api-down') });
    try {
      const order = new OrderRepo(down.db).insert({ userId: 1, sku: 'mug', quantity: 1 });
      const startedAt = Date.now();
      const { status, body } = await down.post(`/api/orders/${order.id}/invoice`);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      expect(status).toBe(503);
      expect(body.error).toMatch(/could not enqueue the job: Redis is not reachable/);
    } finally {
      await down.close();
    }
  });
});

describe('POST /api/dev/send-birthday/:user_id', () => {
  it('answers 202 with the id of the job it enqueued', async () => {
    const { status, body } = await bed.post('/api/dev/send-birthday/1');
    expect(status).toBe(202);
    expect(body).toEqual({ job_id: expect.any(String), queue: 'default' });
    const job = await bed.jobs.queue('default').getJob(body.job_id);
    expect(job?.name).toBe('send_birthday_email');
    expect(job?.data).toEqual({ user_id: 1 });
  });

  it('answers 404 for a user that does not exist', async () => {
    expect(await bed.post('/api/dev/send-birthday/999')).toEqual({ status: 404, body: { error: 'user 999 not found' } });
  });

  it('answers 400 for an id that is not a positive whole number', async () => {
    for (const bad of ['abc', '0', '-1', '1.5']) {
      expect((await bed.post(`/api/dev/send-birthday/${bad}`)).status).toBe(400);
    }
  });

  it('does not exist in production', async () => {
    const prod = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api-prod'), env: 'production' });
    try {
      expect(await prod.post('/api/dev/send-birthday/1')).toEqual({ status: 404, body: { error: 'not found' } });
      expect(await prod.jobs.queue('default').count()).toBe(0);
    } finally {
      await prod.close();
    }
  });
});

describe('errors', () => {
  it('answer unknown routes with the same JSON shape', async () => {
    const res = await bed.app.request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });
});
