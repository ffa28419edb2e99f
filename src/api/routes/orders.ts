import { Hono } from 'hono';
import { z } from 'zod';
import { OrderError } from '../../db/orders.ts';
import { formatIssues } from '../../jobs/tasks.ts';
import type { OrderService } from '../../services/orders.ts';
import { errorResponse } from '../errors.ts';

const CreateOrderBody = z.object({
  user_id: z.number().int().positive(),
  sku: z.string().min(1),
  quantity: z.number().int().positive().max(1_000),
});

/** orderRoutes: POST /api/orders creates an order; its jobs go through the outbox. */
export function orderRoutes(orders: OrderService) {
  return new Hono().post('/', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return errorResponse(c, 400, 'body must be JSON');
    const parsed = CreateOrderBody.safeParse(body);
    if (!parsed.success) return errorResponse(c, 400, formatIssues(parsed.error.issues));

    try {
      const { user_id, sku, quantity } = parsed.data;
      const order = orders.create({ userId: user_id, sku, quantity });
      return c.json({ order }, 201);
    } catch (err) {
      if (err instanceof OrderError) return errorResponse(c, 422, err.message);
      throw err;
    }
  });
}
