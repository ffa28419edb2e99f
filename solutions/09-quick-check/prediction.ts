/**
 * The quick check, before you read any code: a job resizes an uploaded image,
 * and the storage it reads from (the lesson's S3 bucket) is unreachable for a
 * while. The app runs with its default configuration. What happens?
 *
 * Answer each question from what you know so far (WORKSHOP.md, chapters 1 to
 * 5), then run `npm run exercise 9`: the check compares your answers with what
 * the code really does, and says why where they differ.
 */

/** A range of values, smallest first: [0.5, 2] means "between 0.5 and 2". One value is [2, 2]. */
export type Range = [from: number, to: number];

/** The states a BullMQ job can be in (WORKSHOP.md, chapter 10, has the diagram). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';

/** Prediction holds your answers. '?' means "not answered yet". */
export interface Prediction {
  /** 1. How many times does the job run at most, counting the first run? */
  runsAtMost: number | '?';
  /** 2. About how long after the first failure does the first retry run, in seconds? */
  firstRetryAfterSeconds: Range | '?';
  /** 3. If storage never comes back, how long from the first failure to the last run, in days? */
  allRetriesTakeDays: Range | '?';
  /** 4. If storage never comes back, in which state does the job end? */
  endsIn: JobState | '?';
}

export const prediction: Prediction = {
  // The first run, then DEFAULT_MAX_RETRY = 25 retries (BullMQ's attempts: 26).
  runsAtMost: 26,
  // retryDelay(1): the base delay, 1 s, jittered into its upper half.
  firstRetryAfterSeconds: [0.5, 1],
  // 1 + 2 + 4 + … + 16384 s for the first 15 retries, then 10 waits capped at 6 h, each jittered to 50-100 %.
  allRetriesTakeDays: [1.4, 2.9],
  // Dead: BullMQ keeps it in the failed set, with its payload and last error, until someone re-queues it.
  endsIn: 'failed',
};
