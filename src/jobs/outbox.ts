import type { Logger } from '../logger.ts';
import { DEFAULT_PENDING_LIMIT, type OutboxEntry, type OutboxRepo } from '../db/outbox.ts';
import { DEFAULT_QUEUE, type QueueName } from './defaults.ts';
import { InvalidPayloadError, type JobsClient } from './client.ts';
import { checkPayload, type Payload, type TaskName } from './tasks.ts';
import { currentTraceparent, inTraceOf } from './trace-context.ts';

/** OUTBOX_RETRY_MS: while Redis is unreachable, the relay tries again this often. */
export const OUTBOX_RETRY_MS = 1_000;

/**
 * OutboxWriter has the JobsClient's enqueue/enqueueIn, but writes the job to the
 * outbox table instead of Redis. Call it inside the same SQLite transaction as
 * the data the job is about: the order and its jobs are saved together, or not
 * at all, and saving never waits for Redis.
 */
export class OutboxWriter {
  constructor(
    private readonly outbox: OutboxRepo,
    private readonly now: () => number = Date.now,
  ) {}

  enqueue<T extends TaskName>(task: T, payload: Payload<T>, opts: { queue?: QueueName } = {}): void {
    this.enqueueIn(task, payload, 0, opts);
  }

  /** enqueueIn checks the payload now, so a bad one fails the transaction instead of blocking the relay later. */
  enqueueIn<T extends TaskName>(task: T, payload: Payload<T>, delayMs: number, opts: { queue?: QueueName } = {}): void {
    const checked = checkPayload(task, payload);
    if (!checked.ok) throw new InvalidPayloadError(checked.reason);
    const traceparent = currentTraceparent(); // the request's trace, for the relay (with tracing on)
    this.outbox.add({ task, payload: checked.data, queue: opts.queue ?? DEFAULT_QUEUE, runAt: this.now() + delayMs, traceparent });
  }
}

/**
 * OutboxRelay moves outbox rows to BullMQ. kick() after a write relays at once;
 * while Redis is down it tries again every OUTBOX_RETRY_MS until the rows are
 * out. Each row's job id is `outbox-<row id>`, so a row sent twice (say, the
 * process died between enqueueing and marking it sent) still makes one job,
 * as long as that job is kept in Redis.
 */
export class OutboxRelay {
  #running: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** True while Redis is unreachable, so the outage is logged once, not every second. */
  #failing = false;

  constructor(
    private readonly outbox: OutboxRepo,
    private readonly client: JobsClient,
    private readonly log: Logger,
    private readonly opts: { retryMs?: number; now?: () => number } = {},
  ) {}

  /** kick relays pending rows soon. Calls that come while a relay runs are folded into one more run. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#relayPending().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** idle resolves when no relay is running; tests use it to wait for the outbox to settle. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    await this.idle();
  }

  async #relayPending(): Promise<void> {
    clearTimeout(this.#retryTimer);
    const now = this.opts.now ?? Date.now;
    let batch: OutboxEntry[];
    do {
      batch = this.outbox.pending(DEFAULT_PENDING_LIMIT);
      for (const row of batch) {
        try {
          const delay = Math.max(0, row.runAt - now());
          const opts = { queue: row.queue as QueueName, jobId: `outbox-${row.id}` };
          await inTraceOf(row.traceparent, () => this.client.enqueueIn(row.task as TaskName, row.payload as Payload<TaskName>, delay, opts));
          this.outbox.markSent(row.id);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.outbox.markFailed(row.id, message);
          if (!this.#failing) this.log.warn({ pending: this.outbox.countPending(), error: message }, 'outbox: cannot reach the queue; the jobs wait here and go out when it is back');
          this.#failing = true;
          this.#retryLater();
          return;
        }
      }
      // A full batch may have more behind it.
    } while (batch.length === DEFAULT_PENDING_LIMIT);

    if (this.#failing) this.log.info('outbox: the queue is back; waiting jobs delivered');
    this.#failing = false;
  }

  #retryLater(): void {
    if (this.#stopped) return;
    this.#retryTimer = setTimeout(() => this.kick(), this.opts.retryMs ?? OUTBOX_RETRY_MS);
  }
}
