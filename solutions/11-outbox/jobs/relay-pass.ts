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
    const delay = Math.max(0, row.runAt - now());
    const opts = { queue: row.queue as QueueName, jobId: `outbox-${row.id}` };
    try {
      await inTraceOf(row.traceparent, () => client.enqueueIn(row.task as TaskName, row.payload as Payload<TaskName>, delay, opts));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      outbox.markFailed(row.id, error);
      return { sent, error };
    }
    // A crash right here sends the row again after a restart: its job id makes that harmless.
    outbox.markSent(row.id);
    sent++;
  }
  return { sent };
}
