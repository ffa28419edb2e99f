import type { QueueName } from './defaults.ts';
import type { Fetched } from './queue-fetcher.ts';

/**
 * SpareJobs keeps at most one job per queue that came back with another job's
 * result and has not started yet: a spare. When every queue is busy, a slot
 * whose draw names the queue it just served gets that queue's next job with
 * the result, in the same round trip (BullMQ's fetch-next). A slot whose draw
 * names another queue would need a fetch of its own, one more Redis call.
 * Instead, each slot that leaves a queue still takes that queue's next job
 * with its result, for free, and leaves it here; the next slot whose draw
 * names that queue starts it. Slots come into a queue about as often as they
 * leave it, so most moves find a spare, here or on its way, and cost no call.
 *
 * The draw still decides which queue each job comes from, so the weights hold
 * job by job; a spare only changes which slot fetched it. Its lock is renewed
 * while it waits. Spares count among the jobs a JobServer may hold beyond its
 * running slots (one per queue), and go back to their queue on shutdown.
 */
export class SpareJobs {
  /** Each queue's spare: here, or coming while the result that brings it is being written. */
  readonly #byQueue = new Map<QueueName, Fetched | ComingSpare>();

  /**
   * count is how many spares wait here, each a job active in Redis that no
   * slot runs. (One that is coming replaces, in Redis, the job whose result
   * brings it: the slot that reserved it counts it meanwhile.)
   */
  get count(): number {
    let waiting = 0;
    for (const spare of this.#byQueue.values()) if (!(spare instanceof ComingSpare)) waiting++;
    return waiting;
  }

  /** has says whether the queue has a spare, here or coming. */
  has(queue: QueueName): boolean {
    return this.#byQueue.has(queue);
  }

  /** take removes and returns the queue's spare if it is here; one still coming stays. */
  take(queue: QueueName): Fetched | undefined {
    const spare = this.#byQueue.get(queue);
    if (spare === undefined || spare instanceof ComingSpare) return undefined;
    this.#byQueue.delete(queue);
    return spare;
  }

  /**
   * claim takes the queue's spare like take, and one still coming too, as a
   * promise that resolves to it, or to undefined if the result brings no
   * job. Only a slot that is writing a result claims: it waits for the other
   * result beside its own. (The dispatcher does not: a result can take long
   * to write while Redis is away, and shutdown waits for the dispatcher.)
   */
  claim(queue: QueueName): Fetched | Promise<Fetched | undefined> | undefined {
    const spare = this.#byQueue.get(queue);
    if (!(spare instanceof ComingSpare)) return this.take(queue);
    this.#byQueue.delete(queue);
    spare.claimed = true;
    return spare.job;
  }

  /** reserve says a spare of the queue is coming, so that no other slot fetches one too. The queue must have none. */
  reserve(queue: QueueName): ComingSpare {
    if (this.#byQueue.has(queue)) throw new Error(`${queue} has a spare already`);
    const coming = new ComingSpare(queue);
    this.#byQueue.set(queue, coming);
    return coming;
  }

  /**
   * arrived ends a reservation: with the job the result brought back, or
   * with undefined when it brought none (the queue was empty, or the result
   * was not written). The job goes to the slot that claimed it, or waits here
   * with its lock renewed. False when nobody will take it (shutdown took the
   * reservation): the caller hands it back to its queue.
   */
  arrived(coming: ComingSpare, spare: Fetched | undefined): boolean {
    if (coming.ended) return true;
    coming.ended = true;
    spare?.fetcher.holdLock(spare.job, spare.token);
    if (coming.claimed) {
      coming.resolve(spare);
      return true;
    }
    if (this.#byQueue.get(coming.queue) !== coming) return spare === undefined;
    if (spare) this.#byQueue.set(coming.queue, spare);
    else this.#byQueue.delete(coming.queue);
    return true;
  }

  /** takeAll removes every spare and reservation, and returns the spares that are here (on shutdown, to hand them back). */
  takeAll(): Fetched[] {
    const here = [...this.#byQueue.values()].filter((spare): spare is Fetched => !(spare instanceof ComingSpare));
    this.#byQueue.clear();
    return here;
  }
}

/** A spare on its way: the result that brings it back is being written. */
export class ComingSpare {
  /** A slot took it while it was coming, and waits for it. */
  claimed = false;
  ended = false;
  readonly job: Promise<Fetched | undefined>;
  resolve!: (spare: Fetched | undefined) => void;

  constructor(readonly queue: QueueName) {
    this.job = new Promise((resolve) => (this.resolve = resolve));
  }
}
