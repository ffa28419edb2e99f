import { Worker, type Job } from 'bullmq';

/** A job taken from a queue, with the lock token that proves this server owns it. */
export interface Fetched {
  job: Job;
  token: string;
  fetcher: QueueFetcher;
}

/**
 * QueueFetcher is a BullMQ Worker that never runs its own fetch loop
 * (autorun: false). JobServer fetches from it by hand; BullMQ still renews the
 * locks of the jobs it tracks and runs the stalled check.
 */
export class QueueFetcher extends Worker {
  #tokens = 0;

  /** newToken returns a lock token for the next fetch, unique to this fetcher (its id is a UUID). */
  newToken(): string {
    return `${this.id}:${this.#tokens++}`;
  }

  /** startLockRenewal starts the timer that BullMQ's own run() would start. */
  startLockRenewal(): void {
    this.lockManager.start();
  }

  /** holdLock keeps a fetched job's lock renewed until processJob takes it over. */
  holdLock(job: Job, token: string): void {
    this.lockManager.trackJob(job.id!, token, Date.now());
  }

  /** giveBack returns a fetched job that will not run here to its queue, for another worker. */
  async giveBack(job: Job, token: string): Promise<void> {
    this.lockManager.untrackJob(job.id!);
    await job.moveToWait(token);
  }
}
