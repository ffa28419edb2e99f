import type { Job, Worker } from 'bullmq';
import type { Logger } from '../logger.ts';
import { JobLines } from './job-lines.ts';

/**
 * jobLogger is the logger a job's handler gets (ctx.log): the worker's, with
 * the job's id and task on each line. Most handlers never log, and a pino
 * child costs a busy worker a few µs a job, so the child is made the first
 * time the handler uses the logger, not before. Every job's logger shares
 * one proxy handler: a handler of its own, with functions that tsx names one
 * by one, cost about 1 µs a job.
 */
export function jobLogger(log: Logger, job: Job): Logger {
  // The worker's logger is the target's prototype: a check such as `instanceof` sees a logger.
  const target = Object.create(log) as LazyJobLogger;
  target[JOB] = job;
  return new Proxy(target, makesChildOnFirstUse);
}

const JOB = Symbol('job');
const CHILD = Symbol('child logger');

interface LazyJobLogger extends Logger {
  [JOB]: Job;
  [CHILD]?: Logger;
}

const makesChildOnFirstUse: ProxyHandler<LazyJobLogger> = {
  get(target, key) {
    const child = childOf(target);
    const value: unknown = Reflect.get(child, key);
    // pino's methods read their settings from `this`: call them on the child.
    return typeof value === 'function' ? value.bind(child) : value;
  },
  set: (target, key, value) => Reflect.set(childOf(target), key, value),
  has: (target, key) => Reflect.has(childOf(target), key),
};

function childOf(target: LazyJobLogger): Logger {
  const worker = Object.getPrototypeOf(target) as Logger;
  return (target[CHILD] ??= worker.child({ job: target[JOB].id, task: target[JOB].name }));
}

/**
 * logJobEvents logs what a learner needs to see of each job a queue runs:
 * done with its duration, failed with attempt n of N and the time of the next
 * retry, and dead once the attempts are used up. (JobServer logs the start,
 * and the queue's Redis errors: see redis-errors.ts.) The done line, one for
 * every job, goes through JobLines (job-lines.ts), which keeps it cheap.
 */
export function logJobEvents(worker: Worker, log: Logger, lines = new JobLines(log)): void {
  worker.on('completed', (job) => {
    const ms = (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
    lines.done(job, ms);
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
