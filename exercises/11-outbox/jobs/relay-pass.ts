import type { OutboxRepo } from '../db/outbox.ts';
import type { JobsClient } from './client.ts';
import type { QueueName } from './defaults.ts';
import type { Payload, TaskName } from './tasks.ts';
import { inTraceOf } from './trace-context.ts';

/** RelayPass says what one pass over the outbox did. */
export interface RelayPass {
  /** How many rows went to Redis and were marked sent. */
  sent: number;
  /** Why the pass stopped early: the error of the row that Redis did not take. Unset when every row went out. */
  error?: string;
}

/**
 * relayPass hands a batch of pending outbox rows to Redis, oldest first
 * (`outbox.pending()`, up to DEFAULT_PENDING_LIMIT). Each row becomes the job
 * `outbox-<row id>`, due at the row's runAt, and is marked sent once Redis has
 * it. The first row that Redis does not take ends the pass: it is marked
 * failed, the rows behind it wait their turn, and the error is returned, so
 * that OutboxRelay tries again later.
 */
export async function relayPass(outbox: OutboxRepo, client: JobsClient, now: () => number): Promise<RelayPass> {
  let sent = 0;
  for (const row of outbox.pending()) {
    // 🐨 TODO(2): The delay is what is left until the row's runAt, and never
    //    less than 0. As it is, every job is due now, so a review request meant
    //    for 7 days after the order goes out at once.
    // 💰 row.runAt and now() are both epoch ms. enqueueIn refuses a delay below 0.
    const delay = 0;
    // 🐨 TODO(3): Give the job an id of its own, `outbox-<row id>`. As it is,
    //    BullMQ numbers the jobs itself, so a row sent twice makes two jobs.
    // 💰 EnqueueOptions has a jobId. BullMQ refuses a bare number as a custom id.
    const opts = { queue: row.queue as QueueName };
    // 🐨 TODO(1): This is the lesson's `_ = s.jobs.Enqueue(...)`: the error is
    //    dropped, and the row is marked sent anyway. While Redis is down, the job
    //    is lost. Mark the row sent only once enqueueIn has resolved. If it throws:
    //    - keep the row pending, with one more failed try: outbox.markFailed(row.id, error);
    //    - stop the pass: return { sent, error }. The rows behind wait their
    //      turn, and OutboxRelay warns once and tries again in a second.
    // 💰 const error = err instanceof Error ? err.message : String(err);
    // 🦉 inTraceOf runs the call in the trace of the request that wrote the row. Keep it.
    await inTraceOf(row.traceparent, () => client.enqueueIn(row.task as TaskName, row.payload as Payload<TaskName>, delay, opts)).catch(() => {});
    outbox.markSent(row.id);
    sent++;
  }
  return { sent };
}
