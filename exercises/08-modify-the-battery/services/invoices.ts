import type { OrderRepo } from '../db/orders.ts';
import type { EnqueuedJob, JobsClient } from '../jobs/client.ts';

/**
 * INVOICE_MAX_RETRY: nobody waits on an invoice, and after a handful of
 * failures a person should look rather than retry for days. At the default
 * backoff the 5 retries wait 15.5 to 31 s in all, then the job is dead.
 */
export const INVOICE_MAX_RETRY = 5;

/** OrderNotFoundError: there is no order with that id. Nothing was enqueued. */
export class OrderNotFoundError extends Error {
  override name = 'OrderNotFoundError';
  constructor(readonly orderId: number) {
    super(`order ${orderId} not found`);
  }
}

/**
 * InvoiceService asks for an order's invoice. The invoice is made later by
 * the generate_invoice job, which writes it to the uploads.
 */
export class InvoiceService {
  constructor(
    private readonly orders: OrderRepo,
    private readonly jobs: JobsClient,
  ) {}

  /**
   * request enqueues generate_invoice for the order on the `low` queue, since
   * no one is waiting for it, and returns the job. It rejects with
   * OrderNotFoundError for an unknown order, and with QueueUnavailableError
   * while Redis is down: unlike an order, a request for an invoice is cheap to
   * repeat, so it fails fast instead of going through the outbox.
   */
  async request(orderId: number): Promise<EnqueuedJob> {
    if (!this.orders.findById(orderId)) throw new OrderNotFoundError(orderId);
    // 🐨 TODO(3): Enqueue generate_invoice for the order and return the job.
    //    Two options go with it:
    //    - the queue is its priority: nobody waits for an invoice, so `low`;
    //    - its retry policy: INVOICE_MAX_RETRY retries (above), not the
    //      app's default.
    // 💰 enqueue(task, payload, opts): opts has `queue` and `maxRetry`
    //    (see EnqueueOptions in src/jobs/client.ts).
    throw new Error('TODO(3) is not done yet: the service enqueues no invoice job');
  }
}
