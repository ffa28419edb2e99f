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
  // 🐨 TODO(1): Replace each '?' with your answer, before you read src/jobs/.
  //    Guess where you are unsure: the check tells you the right answer and
  //    why, and that is the point of this step.
  // 💰 TypeScript lists what fits: a whole number, a range such as [1, 2],
  //    and one of the JobState names.
  runsAtMost: '?',
  firstRetryAfterSeconds: '?',
  allRetriesTakeDays: '?',
  endsIn: '?',
};
