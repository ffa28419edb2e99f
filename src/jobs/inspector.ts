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
    const jobs = await this.client.queue(queue).getFailed(0, limit - 1);
    return jobs.filter((job): job is Job => Boolean(job)).map((job) => toDeadJob(queue, job));
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
    const job = await this.client.queue(queue).getJob(id);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }
}

function toDeadJob(queue: QueueName, job: Job): DeadJob {
  return {
    id: job.id!,
    queue,
    task: job.name,
    payload: job.data,
    error: job.failedReason,
    stacktrace: job.stacktrace ?? [],
    attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn ? new Date(job.finishedOn) : undefined,
  };
}
