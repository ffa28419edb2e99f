import { Hono } from 'hono';
import { z } from 'zod';
import { OrderError, OutOfStockError } from '../../db/orders.ts';
import { formatIssues } from '../../jobs/tasks.ts';
import { OrderNotFoundError, type InvoiceService } from '../../services/invoices.ts';
import type { OrderService } from '../../services/orders.ts';
import { errorResponse } from '../errors.ts';
import { isUnavailable } from '../../jobs/unavailable.ts';

const CreateOrderBody = z.object({
  user_id: z.number().int().positive(),
  // Bounded, so that no error message echoes a huge sku.
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1_000),
});

/**
 * orderRoutes: POST /api/orders creates an order; its jobs go through the
 * outbox. It answers 409 when the product has too few units left, 422 for
 * an unknown user or product, and 503 while the database is busy. POST /api/orders/:id/invoice enqueues the
 * order's invoice and answers 202 with the job id, or 503 at once while Redis
 * or the database is unavailable.
 */
export function orderRoutes(orders: OrderService, invoices: InvoiceService) {
  return new Hono()
    .post('/', async (c) => {
      const body = await c.req.json().catch(() => undefined);
      if (body === undefined) return errorResponse(c, 400, 'body must be JSON');
      const parsed = CreateOrderBody.safeParse(body);
      if (!parsed.success) return errorResponse(c, 400, formatIssues(parsed.error.issues));

      try {
        const { user_id, sku, quantity } = parsed.data;
        const order = orders.create({ userId: user_id, sku, quantity });
        return c.json({ order }, 201);
      } catch (err) {
        // 409: the order is fine, but the stock has run out (it may come back).
        if (err instanceof OutOfStockError) return errorResponse(c, 409, err.message);
        if (err instanceof OrderError) return errorResponse(c, 422, err.message);
        // Any other error is a bug: app.onError answers 500 and logs it.
        if (!isUnavailable(err)) throw err;
        // Another process holds the database for longer than the busy timeout.
        return errorResponse(c, 503, `could not place the order now, try again: ${(err as Error).message}`);
      }
    })
    .post('/:id/invoice', async (c) => {
      const param = c.req.param('id');
      const orderId = Number(param);
      if (!/^\d+$/.test(param) || !Number.isSafeInteger(orderId) || orderId < 1) {
        return errorResponse(c, 400, `id must be a positive whole number, got "${param}"`);
      }

      try {
        const job = await invoices.request(orderId);
        return c.json({ job_id: job.id, queue: job.queue }, 202);
      } catch (err) {
        if (err instanceof OrderNotFoundError) return errorResponse(c, 404, err.message);
        // Any other error is a bug: app.onError answers 500 and logs it.
        if (!isUnavailable(err)) throw err;
        // The producer connection fails fast when Redis is down, so this answers at once.
        return errorResponse(c, 503, `could not enqueue the job: ${(err as Error).message}`);
      }
    });
}
