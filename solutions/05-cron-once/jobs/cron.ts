import { DEFAULT_QUEUE, type QueueName } from './defaults.ts';
import { InvalidPayloadError, type JobsClient } from './client.ts';
import { checkPayload, type Payload, type TaskName } from './tasks.ts';

/** ScheduledTask is one cron entry as stored in Redis. */
export interface ScheduledTask {
  id: string;
  pattern: string;
  task: string;
  next: Date | undefined;
}

/**
 * Scheduler puts tasks on a cron schedule: the lesson's asynq.Scheduler, built on
 * BullMQ job schedulers. Each entry is stored in Redis under a fixed id (the task
 * name), and every tick becomes one job whose id is made of that id and the
 * tick's time. So registering the same entry from two processes changes
 * nothing, and two schedulers cannot enqueue the same tick twice.
 */
export class Scheduler {
  constructor(private readonly client: JobsClient) {}

  /** register enqueues `task` on every tick of a cron pattern (seconds field optional). */
  async register<T extends TaskName>(pattern: string, task: T, payload: Payload<T>, opts: { queue?: QueueName } = {}): Promise<void> {
    const checked = checkPayload(task, payload);
    if (!checked.ok) throw new InvalidPayloadError(checked.reason);
    await this.client.queue(opts.queue ?? DEFAULT_QUEUE).upsertJobScheduler(
      task,
      { pattern },
      { name: task, data: checked.data, opts: this.client.jobOptions() },
    );
  }

  /** list returns the registered entries of a queue with their next run. */
  async list(queue: QueueName = DEFAULT_QUEUE): Promise<ScheduledTask[]> {
    const schedulers = await this.client.queue(queue).getJobSchedulers();
    return schedulers.map((s) => ({ id: s.key, pattern: s.pattern ?? '', task: s.name, next: s.next ? new Date(s.next) : undefined }));
  }
}

/** registerCron is the app's cron table, like the lesson's RegisterCron. */
export async function registerCron(scheduler: Scheduler): Promise<void> {
  // Every day at 2am.
  await scheduler.register('0 2 * * *', 'nightly_digest', {});
  // Every hour, on the hour.
  await scheduler.register('0 * * * *', 'cleanup_uploads', {});
}
