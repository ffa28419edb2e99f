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
  // 🐨 TODO(2): A job's delay is what is left until its row's runAt, and never
  //    less than 0. As it is, every job is due now, so a review request meant
  //    for 7 days after the order goes out at once.
  // 💰 row.runAt and now() are both epoch ms. sendBatch sets a job whose delay
  //    is below 0 aside as dead, as a bug: it does not send it.
  // 🐨 TODO(3): Give each job an id of its own, `outbox-<row id>`. As it is,
  //    BullMQ numbers the jobs itself, so a row sent twice makes two jobs.
  // 💰 An OutboxJob has a jobId. BullMQ refuses a bare number as a custom id.
  const jobs = rows.map((row) => ({ row, delay: 0 }));
  // 🐨 TODO(1): This is the lesson's `_ = s.jobs.Enqueue(...)`: when Redis cannot
  //    be reached, sendBatch throws, the error is dropped, and every row is
  //    marked sent anyway. Their jobs are lost. Mark rows sent only once
  //    sendBatch has resolved. If it throws:
  //    - keep the rows pending, with one more failed try on the first:
  //      outbox.markFailed(rows[0]!.id, error);
  //    - end the pass: return { sent: 0, dead: [], error }. OutboxRelay warns
  //      once and tries again in a second.
  // 💰 const error = err instanceof Error ? err.message : String(err);
  // 🦉 sendBatch does not throw for a row that Redis will never take (a payload
  //    that no longer fits its task, say): that row comes back in batch.dead, and
  //    the others still go out.
  const batch: SentBatch = await sendBatch(client, jobs).catch(() => ({ sent: rows.map((row) => row.id), dead: [] }));
  outbox.markAllSent(batch.sent);
  for (const row of batch.dead) outbox.markDead(row.id, row.reason);
  return { sent: batch.sent.length, dead: batch.dead };
}
