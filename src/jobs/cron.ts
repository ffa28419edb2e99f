import { isDeepStrictEqual } from 'node:util';
import type { JobSchedulerJson, JobsOptions } from 'bullmq';
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
 *
 * Registering an entry that Redis already holds, unchanged, does nothing at
 * all: BullMQ's upsert would replace the entry's pending tick with the next
 * one, and a tick that is due but not taken yet (every worker busy, or down
 * for a deploy) would be lost.
 */
export class Scheduler {
  constructor(private readonly client: JobsClient) {}

  /** register enqueues `task` on every tick of a cron pattern (seconds field optional). */
  async register<T extends TaskName>(pattern: string, task: T, payload: Payload<T>, opts: { queue?: QueueName } = {}): Promise<void> {
    const checked = checkPayload(task, payload);
    if (!checked.ok) throw new InvalidPayloadError(checked.reason);
    // Every process names the entry the same way, so a second scheduler finds the first one's entry.
    const id = task;
    const queue = this.client.queue(opts.queue ?? DEFAULT_QUEUE);
    const jobOpts = this.client.jobOptions();
    if (isUnchanged(await queue.getJobScheduler(id), pattern, checked.data, jobOpts)) return;
    await queue.upsertJobScheduler(id, { pattern }, { name: task, data: checked.data, opts: jobOpts });
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

/** isUnchanged tells whether a stored entry already has this pattern, payload and retry policy. */
function isUnchanged(entry: JobSchedulerJson | undefined, pattern: string, data: object, opts: JobsOptions): boolean {
  if (!entry || entry.pattern !== pattern) return false;
  // BullMQ leaves an empty payload out of the stored template.
  const stored = entry.template ?? {};
  return isDeepStrictEqual(stored.data ?? {}, data) && stored.opts?.attempts === opts.attempts;
}
