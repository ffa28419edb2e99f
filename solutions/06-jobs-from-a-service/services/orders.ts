import type { Db } from '../db/database.ts';
import type { Order, OrderRepo } from '../db/orders.ts';
import type { OutboxWriter } from '../jobs/outbox.ts';

/** REVIEW_REQUEST_DELAY_MS: the review email goes out 7 days after the order. */
export const REVIEW_REQUEST_DELAY_MS = 7 * 24 * 60 * 60 * 1_000;

export interface CreateOrderInput {
  userId: number;
  sku: string;
  quantity: number;
}

/**
 * OrderService is the lesson's example of a service that enqueues jobs.
 * create() saves the order and its three jobs in one transaction, then asks the
 * relay to send the jobs on. It never waits for Redis and never fails because
 * of it: if Redis is down the jobs wait in the outbox.
 */
export class OrderService {
  constructor(
    private readonly db: Db,
    private readonly orders: OrderRepo,
    private readonly jobs: OutboxWriter,
    private readonly onJobsWritten: () => void,
  ) {}

  create(input: CreateOrderInput): Order {
    const order = this.db.transaction(() => {
      const order = this.orders.insert(input);
      this.jobs.enqueue('send_receipt', { order_id: order.id });
      this.jobs.enqueue('update_inventory', { order_id: order.id });
      this.jobs.enqueueIn('ask_for_review', { order_id: order.id }, REVIEW_REQUEST_DELAY_MS);
      return order;
    })();
    this.onJobsWritten();
    return order;
  }
}
