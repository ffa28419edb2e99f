import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.ts';
import { checkPayload, type Payload, type TaskName } from './tasks.ts';

/** TaskContext is what a handler gets besides its payload. */
export interface TaskContext {
  jobId: string;
  queue: string;
  /** 1 on the first run, 2 on the first retry, and so on. */
  attempt: number;
  maxAttempts: number;
  log: Logger;
}

/** TaskHandler runs one task. Resolve for success; throw to retry; throw UnrecoverableError to give up at once. */
export type TaskHandler<T extends TaskName> = (payload: Payload<T>, ctx: TaskContext) => Promise<void>;

/**
 * ServeMux routes a job to the handler registered for its task name, like
 * asynq.ServeMux. Before the handler runs it checks the payload against the
 * task's schema. A job with no handler or a bad payload fails with
 * UnrecoverableError: retrying cannot fix it, so it goes dead at once.
 */
export class ServeMux {
  readonly #handlers = new Map<TaskName, TaskHandler<TaskName>>();

  /** handle registers the handler for a task. Registering a task twice is a bug and throws. */
  handle<T extends TaskName>(task: T, handler: TaskHandler<T>): void {
    if (this.#handlers.has(task)) throw new Error(`a handler for "${task}" is already registered`);
    this.#handlers.set(task, handler as TaskHandler<TaskName>);
  }

  /** tasks lists the registered task names. */
  tasks(): TaskName[] {
    return [...this.#handlers.keys()];
  }

  /** process runs a job's handler. The worker server calls it for every job. */
  async process(job: Job, log: Logger): Promise<void> {
    const task = job.name as TaskName;
    const handler = this.#handlers.get(task);
    // 🐨 TODO(3): A plain Error means "retry": this job would run again and
    //    again, further apart each time, and fail the same way on every run,
    //    since no retry will register a handler. Throw an UnrecoverableError
    //    instead, with the same reason: the job is then dead at once, after
    //    one attempt.
    // 📜 https://docs.bullmq.io/patterns/stop-retrying-jobs
    if (!handler) throw new Error(`no handler for task "${job.name}"`);

    // 🐨 TODO(4): Check job.data against the task's schema before the handler
    //    runs. Not every job comes through JobsClient, which checks it too. When
    //    it does not fit, throw an UnrecoverableError that carries the reason;
    //    when it fits, hand the handler the checked data instead of job.data.
    // 💰 checkPayload(task, job.data) returns { ok: true, data } or
    //    { ok: false, reason }, the reason reading "bad payload for send_welcome: …".
    await handler(job.data, {
      jobId: job.id!,
      queue: job.queueName,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      log,
    });
  }
}
