/**
 * The job system's defaults, in one place. Each one is asynq's choice unless
 * the comment says otherwise.
 */

/** QUEUES are the queue names, most urgent first. */
export const QUEUES = ['critical', 'default', 'low'] as const;
export type QueueName = (typeof QUEUES)[number];

/** DEFAULT_QUEUE is where `enqueue` puts a task when the caller names no queue. */
export const DEFAULT_QUEUE: QueueName = 'default';

/** DEFAULT_QUEUE_WEIGHTS: when every queue has work, slots serve them 6:3:1. */
export const DEFAULT_QUEUE_WEIGHTS: Record<QueueName, number> = { critical: 6, default: 3, low: 1 };

/** DEFAULT_CONCURRENCY is how many jobs one worker process runs at once. */
export const DEFAULT_CONCURRENCY = 10;

/**
 * DEFAULT_MAX_RETRY is how many times a failed job is retried after its first
 * attempt, so a job runs at most 26 times. BullMQ's own default is a single
 * attempt with no retry at all.
 */
export const DEFAULT_MAX_RETRY = 25;

/**
 * Retry delays grow exponentially from RETRY_BASE_DELAY_MS (1 s, 2 s, 4 s, ...)
 * up to RETRY_MAX_DELAY_MS, and each is jittered so that a burst of failures
 * does not retry in lockstep: the 5th retry waits 8 to 16 s, the 15th 2.3 to
 * 4.6 h, and from the 16th on 3 to 6 h. All 25 retries span 1.4 to 2.9 days,
 * long enough to outlast most outages. (asynq's own curve, n^4 seconds,
 * stretches over about 3 weeks.)
 */
export const RETRY_BASE_DELAY_MS = 1_000;
export const RETRY_MAX_DELAY_MS = 6 * 60 * 60 * 1_000;

/**
 * LOCK_DURATION_MS and STALLED_INTERVAL_MS decide how fast a job left behind by a
 * killed worker runs again. A worker renews the lock of each running job every
 * LOCK_DURATION_MS / 2; a lock that is not renewed expires, and the next stalled
 * check (every STALLED_INTERVAL_MS) puts the job back in its queue.
 *
 * BullMQ uses 30 s for both. 5 s brings a lost job back within 10 to 15 s (the
 * lock expires, then a stalled check marks the job and the next one moves it;
 * `npm run test:chaos` measured 11.5 to 13.4 s, a new worker's start included). The
 * price: renewals cost a Redis call every 2.5 s per running job, and a worker
 * whose event loop is blocked for more than 5 s (a CPU-bound handler) loses its
 * lock and the job runs twice. Handlers must be idempotent anyway.
 */
export const LOCK_DURATION_MS = 5_000;
export const STALLED_INTERVAL_MS = 5_000;

/**
 * MAX_STALLED_COUNT is how many times a job may lose its worker (killed, or its
 * lock expired) and still be put back in its queue by the stalled check. asynq's
 * recoverer retries such a job like a failed one, so we allow as many losses as
 * a task's default retries. BullMQ counts them apart from attempts, over the
 * job's whole life: a lost worker uses no attempt, so a job runs at most
 * attempts + MAX_STALLED_COUNT times. One loss more and the job fails at once,
 * "job stalled more than allowable limit", with no retry. BullMQ's default of 1
 * failed a job the second time its worker died, a routine deploy or two.
 */
export const MAX_STALLED_COUNT = DEFAULT_MAX_RETRY;

/**
 * SHUTDOWN_TIMEOUT_MS is how long a worker waits for its running jobs on
 * SIGTERM. Jobs still running after that are left to the stalled check.
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;
