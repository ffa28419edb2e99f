import type { Worker } from 'bullmq';
import type { Logger } from '../logger.ts';

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
