import type { Job, Worker } from 'bullmq';
import type { Logger } from '../logger.ts';

/**
 * jobLogger is the logger a job's handler gets (ctx.log): the worker's, with
 * the job's id and task on each line. Most handlers never log, and a pino
 * child costs a busy worker a few µs a job, so the child is made the first
 * time the handler uses the logger, not before.
 */
export function jobLogger(log: Logger, job: Job): Logger {
  let child: Logger | undefined;
  const made = () => (child ??= log.child({ job: job.id, task: job.name }));
  return new Proxy(log, {
    get(_worker, key) {
      const value: unknown = Reflect.get(made(), key);
      // pino's methods read their settings from `this`: call them on the child.
      return typeof value === 'function' ? value.bind(made()) : value;
    },
    set: (_worker, key, value) => Reflect.set(made(), key, value),
    has: (_worker, key) => Reflect.has(made(), key),
  });
}

/**
 * logJobEvents logs what a learner needs to see of each job a queue runs:
 * done with its duration, failed with attempt n of N and the time of the next
 * retry, and dead once the attempts are used up. (JobServer logs the start,
 * and the queue's Redis errors: see redis-errors.ts.)
 */
export function logJobEvents(worker: Worker, log: Logger): void {
  worker.on('completed', (job) => {
    const ms = (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
    log.info({ job: job.id, task: job.name, queue: job.queueName, ms }, `job done in ${ms} ms`);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const attempts = Math.max(job.opts.attempts ?? 1, 1);
    const context = { job: job.id, task: job.name, queue: job.queueName, error: err.message };
    // BullMQ sets finishedOn only when the job will not run again.
    if (job.finishedOn) {
      // A dead job re-queued from the admin page keeps its count, and gets one more attempt.
      const spent = job.attemptsMade > attempts ? `${job.attemptsMade} attempts (${attempts} allowed, then re-queued)` : `${job.attemptsMade} of ${attempts} attempts`;
      log.error({ ...context, attemptsMade: job.attemptsMade }, `job dead after ${spent}: ${err.message}`);
    } else {
      const retryAt = new Date(Date.now() + job.delay).toISOString();
      log.warn({ ...context, retryAt }, `job failed (attempt ${job.attemptsMade} of ${attempts}), retrying at ${retryAt}`);
    }
  });
}
