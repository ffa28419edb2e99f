import type { Logger } from '../logger.ts';
import type { OutboxRepo } from '../db/outbox.ts';
import { DEFAULT_QUEUE, type QueueName } from './defaults.ts';
import { InvalidPayloadError, type JobsClient } from './client.ts';
import { deadRowMessage, RELAY_BATCH_SIZE } from './outbox-jobs.ts';
import { relayPass, type RelayPass } from './relay-pass.ts';
import { checkPayload, type Payload, type TaskName } from './tasks.ts';
import { currentTraceparent } from './trace-context.ts';

/** OUTBOX_RETRY_MS: while Redis is unreachable, the relay tries again this often. */
export const OUTBOX_RETRY_MS = 1_000;

/**
 * OUTBOX_SWEEP_MS: the relay also looks every this often, for rows that no
 * write kicked it for: one requeued with `npm run jobs -- outbox requeue`, or
 * one that another API process wrote just before it died.
 */
export const OUTBOX_SWEEP_MS = 5_000;

/** The relay's two log lines: Redis went away while jobs waited (once per outage), and it is back. */
export const OUTAGE_WARNING = 'outbox: cannot reach the queue; the jobs wait here and go out when it is back';
export const BACK_NOTICE = 'outbox: the queue is back; waiting jobs delivered';

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
 * OutboxRelay decides when the outbox's rows go to BullMQ; each pass over them
 * is relayPass(). kick() after a write relays at once, and passes follow each
 * other while they find full batches. While Redis is down it warns once, then
 * tries again every OUTBOX_RETRY_MS until the rows are out, and says so when
 * they are. A row that Redis will never take is no outage: it logs one error
 * for that row, which stays in the table as dead, and goes on with the rest.
 */
export class OutboxRelay {
  #running: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
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

  /** sweepEvery kicks the relay every `everyMs` until stop(). The timer does not keep the process alive. */
  sweepEvery(everyMs = OUTBOX_SWEEP_MS): void {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = setInterval(() => this.kick(), everyMs).unref();
  }

  /** idle resolves when no relay is running; tests use it to wait for the outbox to settle. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#sweepTimer);
    await this.idle();
  }

  async #relayPending(): Promise<void> {
    clearTimeout(this.#retryTimer);
    const now = this.opts.now ?? Date.now;
    let pass: RelayPass;
    do {
      // A pass that throws (say, the database failed) waits and tries again, like an outage.
      pass = await relayPass(this.outbox, this.client, now).catch((err: unknown) => ({ sent: 0, dead: [], error: String(err) }));
      for (const row of pass.dead) {
        this.log.error({ outbox_id: row.id, task: row.task, queue: row.queue, error: row.reason }, deadRowMessage(row));
      }
      if (pass.error !== undefined) {
        if (!this.#failing) this.log.warn({ pending: this.outbox.countPending(), error: pass.error }, OUTAGE_WARNING);
        this.#failing = true;
        this.#retryLater();
        return;
      }
      // A full batch may have more behind it.
    } while (pass.sent + pass.dead.length === RELAY_BATCH_SIZE);

    if (this.#failing) this.log.info(BACK_NOTICE);
    this.#failing = false;
  }

  #retryLater(): void {
    if (this.#stopped) return;
    this.#retryTimer = setTimeout(() => this.kick(), this.opts.retryMs ?? OUTBOX_RETRY_MS);
  }
}
