import type { OutboxRepo } from '../db/outbox.ts';
import type { JobsClient } from './client.ts';
import { RELAY_BATCH_SIZE, sendBatch, type DeadRow, type SentBatch } from './outbox-jobs.ts';

/** RelayPass says what one pass over the outbox did. */
export interface RelayPass {
  /** How many rows went to Redis and were marked sent. */
  sent: number;
  /** The rows set aside as dead, each with its reason: Redis will never take them. */
  dead: DeadRow[];
  /** Why the pass sent nothing: Redis could not be reached. Unset when it could. */
  error?: string;
}

/**
 * relayPass hands a batch of pending outbox rows to Redis, oldest first
 * (`outbox.pending()`, up to RELAY_BATCH_SIZE). Each row becomes the job
 * `outbox-<row id>`, due at the row's runAt, and the rows are marked sent
 * once Redis has their jobs. A row that Redis will never take (its task,
 * queue or payload is wrong, or Redis refused it) is marked dead, and the
 * others go on. When Redis cannot be reached, no row is marked sent: the
 * first is marked failed and the error is returned, so that OutboxRelay
 * tries again later.
 */
export async function relayPass(outbox: OutboxRepo, client: JobsClient, now: () => number): Promise<RelayPass> {
  const rows = outbox.pending(RELAY_BATCH_SIZE);
  const jobs = rows.map((row) => ({ row, delay: Math.max(0, row.runAt - now()), jobId: `outbox-${row.id}` }));
  let batch: SentBatch;
  try {
    batch = await sendBatch(client, jobs);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    outbox.markFailed(rows[0]!.id, error);
    return { sent: 0, dead: [], error };
  }
  // A crash right here sends the batch again after a restart: its job ids make that harmless.
  outbox.markAllSent(batch.sent);
  for (const row of batch.dead) outbox.markDead(row.id, row.reason);
  return { sent: batch.sent.length, dead: batch.dead };
}
