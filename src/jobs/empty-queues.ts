import type { Job } from 'bullmq';
import type { QueueName } from './defaults.ts';
import type { Fetched, QueueFetcher } from './queue-fetcher.ts';
import type { RedisErrorLog } from './redis-errors.ts';
import type { Signal } from './signal.ts';

/** What EmptyQueues needs from the JobServer that owns it. */
export interface EmptyQueuesOptions {
  /** The log of Redis errors that the blocking fetches report to. */
  redisErrors: RedisErrorLog;
  /** Notified when a blocking fetch returns, with a job or without. */
  changed: Signal;
  /** Returns a job that will not run here to its queue (a blocking fetch that returns after close()). */
  giveBack: (fetched: Fetched) => Promise<void>;
}

/**
 * EmptyQueues keeps the queues where the last fetch found no job out of the
 * weighted draw, so that serving `low` alone costs no more Redis round trips
 * than serving `critical` alone: nobody asks the empty queues for a job every
 * time. Instead one blocking fetch waits on each empty queue in Redis
 * (BullMQ's own, which also wakes when a delayed job falls due). When a job
 * arrives, that fetch takes it and holds it for the next free slot, and the
 * queue rejoins the draw: a `critical` job that arrives while every slot
 * serves a `low` backlog starts as soon as one slot is free. When every queue
 * is empty, those blocking fetches are all that run: a new job starts within
 * milliseconds and nothing polls.
 *
 * It belongs to one JobServer, which calls markEmpty() when a fetch finds no
 * job, takeHeld() when a slot is free, and close() once, when it shuts down.
 */
export class EmptyQueues {
  readonly #fetchers: ReadonlyMap<QueueName, QueueFetcher>;
  readonly #opts: EmptyQueuesOptions;
  /** Jobs that a blocking fetch returned, waiting for a free slot (at most one per queue). */
  readonly #held: Fetched[] = [];
  /** Queues where the last fetch found no job. They are left out of the draw until their blocking fetch returns. */
  readonly #empty = new Set<QueueName>();
  /** Queues with a blocking fetch in flight. */
  readonly #watching = new Set<QueueName>();
  #closed = false;

  constructor(fetchers: ReadonlyMap<QueueName, QueueFetcher>, opts: EmptyQueuesOptions) {
    this.#fetchers = fetchers;
    this.#opts = opts;
  }

  /** isEmpty says whether the queue is out of the draw: its last fetch found no job, and its blocking fetch has not returned. */
  isEmpty(queue: QueueName): boolean {
    return this.#empty.has(queue);
  }

  /** everyQueueEmpty says whether every queue is out of the draw (a blocking fetch then waits on each). */
  get everyQueueEmpty(): boolean {
    return this.#empty.size === this.#fetchers.size;
  }

  /**
   * watched counts the queues with a blocking fetch in flight or a job held:
   * each may bring in one job before a slot asks for it.
   */
  get watched(): number {
    return this.#watching.size + this.#held.length;
  }

  /** holding says whether a job that a blocking fetch returned waits for a free slot. */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** markEmpty takes a queue out of the draw, and has a blocking fetch wait for its next job. */
  markEmpty(queue: QueueName): void {
    this.#empty.add(queue);
    this.#watchEmptyQueues();
  }

  /** takeHeld takes the oldest held job. Its queue may be known empty by now: then it gets its blocking fetch back. */
  takeHeld(): Fetched | undefined {
    const held = this.#held.shift();
    if (held) this.#watchEmptyQueues();
    return held;
  }

  /**
   * close stops watching: no blocking fetch starts after it, and a job that
   * one returns after it goes back to its queue. The held jobs, fetched but not
   * started, go back to their queue for another worker; close resolves once
   * they have. The fetches still blocking end when the fetchers' connections close.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#held.splice(0).map((held) => this.#opts.giveBack(held)));
  }

  /**
   * #watchEmptyQueues starts a blocking fetch on each queue known to be empty,
   * unless one is open already or a job of that queue is held: a blocking fetch
   * takes a job before a slot is free, and this bounds how many wait.
   */
  #watchEmptyQueues(): void {
    if (this.#closed) return;
    for (const queue of this.#empty) {
      if (this.#watching.has(queue) || this.#held.some((held) => held.fetcher.name === queue)) continue;
      void this.#watch(queue);
    }
  }

  /**
   * #watch blocks on one queue in Redis until a job arrives (or a delayed job
   * falls due), or until BullMQ's block timeout (5 s), after which BullMQ looks
   * once more. Whatever it returns, the queue rejoins the draw: a job means more
   * may follow, and after a timeout or an error the next fetch from the queue
   * finds out whether it is still empty.
   */
  async #watch(queue: QueueName): Promise<void> {
    const fetcher = this.#fetchers.get(queue)!;
    const token = fetcher.newToken();
    this.#watching.add(queue);
    let job: Job | undefined;
    try {
      job = await fetcher.getNextJob(token, { block: true });
    } catch (err) {
      // Closing the connection on shutdown ends the fetch with an error; that one is expected.
      if (!this.#closed) this.#opts.redisErrors.error(err, { queue, while: 'waiting for a job' });
    }
    this.#watching.delete(queue);
    this.#empty.delete(queue);
    if (job && this.#closed) {
      await this.#opts.giveBack({ job, token, fetcher });
    } else if (job) {
      fetcher.holdLock(job, token);
      this.#held.push({ job, token, fetcher });
    }
    this.#opts.changed.notify();
  }
}
