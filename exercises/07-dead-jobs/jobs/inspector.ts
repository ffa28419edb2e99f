import type { Job } from 'bullmq';
import type { JobsClient } from './client.ts';
import { QUEUES, type QueueName } from './defaults.ts';

/** QueueCounts is a queue's depth by state. `dead` is BullMQ's `failed`. */
export interface QueueCounts {
  active: number;
  pending: number;
  scheduled: number;
  dead: number;
  completed: number;
}

/** DeadJob is a job that used up its attempts, kept with everything needed to debug it. */
export interface DeadJob {
  id: string;
  queue: QueueName;
  task: string;
  payload: unknown;
  error: string;
  stacktrace: string[];
  attemptsMade: number;
  failedAt: Date | undefined;
}

/**
 * JobState is where a job is, in the lesson's words: BullMQ's `waiting` and
 * `prioritized` are pending, `delayed` is scheduled (due later, or waiting out
 * a retry's backoff), `failed` is dead.
 */
export type JobState = 'active' | 'pending' | 'scheduled' | 'dead' | 'completed' | 'unknown';

/** JobDetails is one job in any state, with what `npm run jobs -- show` prints. */
export interface JobDetails {
  id: string;
  queue: QueueName;
  task: string;
  state: JobState;
  payload: unknown;
  attemptsMade: number;
  /** How many attempts it gets in all: maxRetry + 1. */
  maxAttempts: number;
  /** The last attempt's error, if one failed (a scheduled job may be waiting out its backoff). */
  error: string | undefined;
  /** One stack per failed attempt, oldest first. */
  stacktrace: string[];
  createdAt: Date;
  /** When a job enqueued with a delay falls due. Unset for a retry's backoff, whose end BullMQ does not keep on the job. */
  dueAt: Date | undefined;
  finishedAt: Date | undefined;
}

const STATES: Record<string, JobState> = {
  active: 'active',
  waiting: 'pending',
  prioritized: 'pending',
  'waiting-children': 'pending',
  delayed: 'scheduled',
  failed: 'dead',
  completed: 'completed',
};

/**
 * Inspector reads the queues for people: depth per state, dead jobs, and a way
 * to send a dead job back to its queue. `npm run jobs` uses it; the admin page
 * (bull-board) reads the same queues through its own adapter. (asynq has an
 * Inspector too.)
 */
export class Inspector {
  constructor(private readonly client: JobsClient) {}

  async counts(): Promise<Record<QueueName, QueueCounts>> {
    const entries = await Promise.all(
      QUEUES.map(async (queue) => {
        const c = await this.client.queue(queue).getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'failed', 'completed');
        const counts: QueueCounts = {
          active: c.active ?? 0,
          pending: (c.waiting ?? 0) + (c.prioritized ?? 0),
          scheduled: c.delayed ?? 0,
          dead: c.failed ?? 0,
          completed: c.completed ?? 0,
        };
        return [queue, counts] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<QueueName, QueueCounts>;
  }

  /** deadJobs lists a queue's dead jobs, newest first. */
  async deadJobs(queue: QueueName, limit = 50): Promise<DeadJob[]> {
    // 🐨 TODO(1): Read the queue's dead jobs, newest first, at most `limit` of them,
    //    and turn each into a DeadJob with toDeadJob(queue, job) (TODO 2 fills that in).
    //    A job that used up its attempts is not deleted: BullMQ keeps it in the
    //    queue's `failed` set, with everything it knew when it died.
    // 💰 this.client.queue(queue) is the BullMQ Queue. Its getFailed(start, end) reads
    //    that set, newest first, from index start to index end, both included. A slot
    //    can come back empty (a job removed while you read): keep only the jobs there.
    // 📜 https://docs.bullmq.io/guide/jobs/getters
    throw new Error('TODO(1) is not done yet: deadJobs() reads no dead job');
  }

  /** job returns one job in any state, or undefined if the queue has no job with that id. */
  async job(queue: QueueName, id: string): Promise<JobDetails | undefined> {
    const job = await this.client.queue(queue).getJob(id);
    if (!job) return undefined;
    const state = STATES[await job.getState()] ?? 'unknown';
    return {
      id: job.id!,
      queue,
      task: job.name,
      state,
      payload: job.data,
      attemptsMade: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      error: job.failedReason || undefined,
      stacktrace: job.stacktrace ?? [],
      createdAt: new Date(job.timestamp),
      dueAt: state === 'scheduled' && job.attemptsMade === 0 ? new Date(job.timestamp + job.delay) : undefined,
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : undefined,
    };
  }

  /** deadJob returns one dead job, or undefined if there is no dead job with that id. */
  async deadJob(queue: QueueName, id: string): Promise<DeadJob | undefined> {
    const job = await this.client.queue(queue).getJob(id);
    if (!job || !(await job.isFailed())) return undefined;
    return toDeadJob(queue, job);
  }

  /**
   * requeue sends a dead job back to its queue with a fresh set of attempts.
   * It returns false when there is no dead job with that id.
   */
  async requeue(queue: QueueName, id: string): Promise<boolean> {
    // 🐨 TODO(3): Send the dead job `id` back to its queue, to wait for a worker.
    //    - Only a dead job: if the queue has no job with that id, or the job is in
    //      any other state (waiting, scheduled, active, done), change nothing and
    //      return false.
    //    - With a fresh set of attempts: a job that used up all of its attempts
    //      should get all of them again, not die at its next failure.
    //    Return true once it is back.
    // 💰 queue.getJob(id) resolves to the Job or undefined; job.isFailed() tells
    //    whether it is dead; job.retry('failed', opts) moves it from the failed set
    //    back to waiting. Its opts resetAttemptsMade and resetAttemptsStarted
    //    (BullMQ counts the starts apart from the failures) give the fresh attempts.
    // 📜 https://docs.bullmq.io/api/interfaces/v6.RetryOptions.html
    throw new Error('TODO(3) is not done yet: the dead job was not re-queued');
  }
}

function toDeadJob(queue: QueueName, job: Job): DeadJob {
  // 🐨 TODO(2): A dead job is only worth keeping for what it tells you. Fill in
  //    the five fields that are blank below from the BullMQ Job:
  //    - payload: the data the job was enqueued with;
  //    - error: the message of the error its last attempt threw;
  //    - stacktrace: one stack per failed attempt (BullMQ may have none: use []);
  //    - attemptsMade: how many attempts failed;
  //    - failedAt: when it died, as a Date (unset if BullMQ has no time for it).
  // 💰 The Job's fields are data, failedReason, stacktrace, attemptsMade and
  //    finishedOn (epoch ms, set once a job will not run again).
  // 📜 https://docs.bullmq.io/api/classes/v6.Job.html
  return {
    id: job.id!,
    queue,
    task: job.name,
    payload: undefined,
    error: '',
    stacktrace: [],
    attemptsMade: 0,
    failedAt: undefined,
  };
}
