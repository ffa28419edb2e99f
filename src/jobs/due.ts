import type { Queue } from 'bullmq';

/**
 * dueAt is when a delayed job falls due, be it enqueued with a delay or
 * waiting out a retry's backoff, or undefined when it is not in the queue's
 * delayed set. BullMQ keeps the due time only there, as the job's score: the
 * due time in ms × 0x1000, plus a counter in the low 12 bits that keeps jobs
 * due in the same ms in order (getDelayedScore.lua). `timestamp + delay`
 * would be wrong for a retry, whose backoff counts from the failure.
 */
export async function dueAt(queue: Queue, id: string): Promise<Date | undefined> {
  const score = await (await queue.backend.client).zscore(queue.keys.delayed!, id);
  return score === null ? undefined : new Date(Math.floor(Number(score) / 0x1000));
}
