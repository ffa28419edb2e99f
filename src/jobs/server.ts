import { MetricsTime, type ConnectionOptions } from 'bullmq';
import { createLogger, type Logger } from '../logger.ts';
import { bullmqTelemetry } from '../telemetry.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_QUEUE_WEIGHTS,
  LOCK_DURATION_MS,
  MAX_STALLED_COUNT,
  SHUTDOWN_TIMEOUT_MS,
  STALLED_INTERVAL_MS,
  type QueueName,
} from './defaults.ts';
import { EmptyQueues } from './empty-queues.ts';
import type { ServeMux } from './mux.ts';
import { logJobEvents } from './job-log.ts';
import { queuePrefix } from './key-prefix.ts';
import { QueueFetcher, type Fetched } from './queue-fetcher.ts';
import { RedisErrorLog, redisAddress } from './redis-errors.ts';
import { isUnavailable } from './unavailable.ts';
import { DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './retry.ts';
import { Signal } from './signal.ts';
import { weightedDraw } from './weighted.ts';

/** ServerOptions configure a JobServer. Every field is optional; defaults live in defaults.ts. */
export interface ServerOptions {
  /** How many jobs run at once, across all queues. Default: 10. */
  concurrency?: number;
  /** Queue name to weight. Only the queues named here are served. Default: critical 6, default 3, low 1. */
  queues?: Partial<Record<QueueName, number>>;
  /** How retry delays grow. Default: 1 s doubling up to 6 h, jittered. */
  retry?: RetryPolicy;
  /** How long a job's lock lasts without renewal. Default: 5 s (see defaults.ts for the trade-off). */
  lockDurationMs?: number;
  /** How often to look for jobs whose worker died. Default: 5 s. */
  stalledIntervalMs?: number;
  /** How long shutdown() waits for running jobs. Default: 25 s. */
  shutdownTimeoutMs?: number;
  /** BullMQ key prefix. Default: 'bull'. */
  prefix?: string;
  logger?: Logger;
  /** The random source for the weighted draw; tests may fix it. */
  random?: () => number;
}

/**
 * JobServer runs jobs from several queues with one pool of slots: the
 * lesson's asynq.NewServer(Concurrency: 10, Queues: {critical: 6, default: 3, low: 1}).
 *
 * Each time a slot is free it draws a queue order by weight and takes the first
 * job it finds, so when every queue has work they are served about 6:3:1, and
 * when only one has work every slot serves it.
 *
 * A queue found empty leaves the draw until a blocking fetch on it returns, so
 * that nobody asks the empty queues for a job every time (see EmptyQueues, in
 * empty-queues.ts). When every queue is empty, those blocking fetches are all
 * that run: a new job starts within milliseconds and nothing polls.
 *
 * Failed jobs are retried with exponential backoff and jitter; after the last
 * attempt they stay in BullMQ's `failed` set, which is this workshop's dead
 * letter queue. Call start() once and shutdown() once.
 */
export class JobServer {
  readonly #concurrency: number;
  readonly #weights: Partial<Record<QueueName, number>>;
  readonly #shutdownTimeoutMs: number;
  readonly #log: Logger;
  readonly #random: () => number;
  /** Draws the queue order by weight: see weightedOrder. */
  readonly #draw: (random: () => number) => QueueName[];
  readonly #fetchers = new Map<QueueName, QueueFetcher>();

  /** Busy slots. Each runs one job at a time, and may chain to the next. Never more than #concurrency. */
  readonly #busy = new Set<Promise<void>>();
  /** The queues out of the draw, each with a blocking fetch that waits for its next job, and the jobs those fetches hold. */
  readonly #emptyQueues: EmptyQueues;
  /** The one log of Redis errors: the queues' connections and the fetches report there, rate-limited. */
  readonly #redisErrors: RedisErrorLog;
  /** Fires when a slot frees, a blocking fetch returns, or shutdown begins. */
  readonly #changed = new Signal();

  /**
   * Fetches sent beside a result (see #process), until their slot has its next
   * job. Each may put one job more in Redis's active list than the slots run.
   */
  #fetchesBeside = 0;
  #stopping = false;
  #dispatching: Promise<void> | undefined;

  constructor(connection: ConnectionOptions, mux: ServeMux, opts: ServerOptions = {}) {
    this.#concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number of 1 or more, got ${opts.concurrency}`);
    }
    this.#weights = opts.queues ?? DEFAULT_QUEUE_WEIGHTS;
    this.#draw = weightedDraw(this.#weights);
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS;
    this.#log = opts.logger ?? createLogger('worker');
    this.#random = opts.random ?? Math.random;
    const policy = opts.retry ?? DEFAULT_RETRY_POLICY;
    // Every queue has its own connections; while Redis is down they all fail, so they share one log of it.
    const redisErrors = new RedisErrorLog(this.#log, { where: redisAddress(connection), label: 'queue error' });
    this.#redisErrors = redisErrors;

    for (const [queue, weight] of Object.entries(this.#weights) as [QueueName, number][]) {
      if (!(weight > 0)) continue;
      const fetcher = new QueueFetcher(queue, (job) => mux.process(job, this.#log.child({ job: job.id, task: job.name })), {
        connection,
        prefix: queuePrefix(opts.prefix, queue, connection),
        autorun: false,
        lockDuration: opts.lockDurationMs ?? LOCK_DURATION_MS,
        stalledInterval: opts.stalledIntervalMs ?? STALLED_INTERVAL_MS,
        maxStalledCount: MAX_STALLED_COUNT,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, policy, this.#random) },
        // Jobs completed and failed per minute, for the admin page's throughput chart.
        // BullMQ counts them in the script that records each result, so the manual
        // fetch path records them too.
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
        // With tracing on, processJob runs each job in a consumer span whose parent is
        // the producer span that BullMQ stored with the job (opts.telemetry.metadata).
        // processJob is the call this server makes by hand, so its jobs are traced too.
        telemetry: bullmqTelemetry(),
      });
      logJobEvents(fetcher, this.#log);
      fetcher.on('error', (err) => redisErrors.error(err, { queue }));
      fetcher.getBackend().on('ready', () => redisErrors.reachable());
      this.#fetchers.set(queue, fetcher);
    }
    if (this.#fetchers.size === 0) throw new RangeError('a JobServer needs at least one queue with a weight above 0');
    this.#emptyQueues = new EmptyQueues(this.#fetchers, { redisErrors, changed: this.#changed, giveBack: (fetched) => this.#giveBack(fetched) });
  }

  /** start connects to Redis and begins taking jobs. It resolves once the server is ready. */
  async start(): Promise<void> {
    for (const fetcher of this.#fetchers.values()) {
      await fetcher.waitUntilReady();
      await fetcher.startStalledCheckTimer();
      fetcher.startLockRenewal();
    }
    this.#dispatching = this.#dispatch();
    this.#log.info({ concurrency: this.#concurrency, queues: this.#weights }, 'worker started');
  }

  /**
   * shutdown stops taking jobs, waits up to the shutdown timeout for the
   * running ones, then closes the Redis connections. A job still running after
   * the timeout keeps its place in Redis: once its lock expires, the stalled
   * check of another worker runs it again.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    // Jobs fetched but not started go back to their queue for another worker, and no more are waited for.
    const handingBack = this.#emptyQueues.close();
    this.#changed.notify();
    await this.#dispatching;
    await handingBack;

    this.#log.info({ running: this.#busy.size }, 'worker stopping: waiting for running jobs');
    const drained = await waitAll(this.#busy, this.#shutdownTimeoutMs);
    if (!drained) this.#log.warn({ running: this.#busy.size }, 'shutdown timeout: leaving running jobs to the stalled check');
    // force: our jobs are done (or abandoned), so close without BullMQ's own wait.
    await Promise.all([...this.#fetchers.values()].map((fetcher) => fetcher.close(true)));
    this.#log.info('worker stopped');
  }

  /** The loop that fills free slots. */
  async #dispatch(): Promise<void> {
    while (!this.#stopping) {
      if (this.#busy.size >= this.#concurrency) {
        await this.#changed.wait();
        continue;
      }
      const next = this.#emptyQueues.takeHeld() ?? (await this.#fetchFirst(this.#draw(this.#random)));
      // shutdown() may have begun while we fetched, and its notify found nobody waiting.
      if (this.#stopping) {
        if (next) await this.#giveBack(next);
        break;
      }
      if (next) {
        this.#run(next);
        continue;
      }
      // While we looked, a blocking fetch may have handed over a job or put its
      // queue back in the draw, or a fetch failed: then look again.
      if (this.#emptyQueues.holding || !this.#emptyQueues.everyQueueEmpty) continue;
      // Every queue is empty, and a blocking fetch waits on each: sleep until one returns.
      await this.#changed.wait();
    }
  }

  /**
   * #fetchFirst tries the queues in the given order, skipping those known to be
   * empty, and takes the first job it finds. With holdLock, the job's lock is
   * renewed until it starts: a slot that fetched it beside a result it is still
   * writing may wait for that write (BullMQ retries it while Redis is away).
   * It never throws: a failed fetch is logged, and the next queue tried a second later.
   */
  async #fetchFirst(order: QueueName[], { holdLock = false } = {}): Promise<Fetched | undefined> {
    for (const queue of order) {
      if (this.#emptyQueues.isEmpty(queue)) continue;
      const fetcher = this.#fetchers.get(queue)!;
      const token = fetcher.newToken();
      try {
        const job = await fetcher.getNextJob(token, { block: false });
        if (job && holdLock) fetcher.holdLock(job, token);
        if (job) return { job, token, fetcher };
        this.#emptyQueues.markEmpty(queue);
      } catch (err) {
        this.#redisErrors.error(err, { queue, while: 'fetching a job; trying again shortly' });
        await sleep(1_000);
      }
    }
    return undefined;
  }

  /** #run occupies a slot with a job, and with the jobs it chains to (see #process). */
  #run(first: Fetched): void {
    const running = (async () => {
      let next: Fetched | undefined = first;
      while (next) next = await this.#process(next);
    })().finally(() => {
      this.#busy.delete(running);
      this.#changed.notify();
    });
    this.#busy.add(running);
  }

  /**
   * #process runs one job and records its result, then finds the slot's next
   * job in the same round trip. It draws the next queue by weight before the
   * result is written. When the draw picks this same queue, BullMQ hands back
   * that queue's next job with the result (moveToCompleted's fetch-next). When
   * it picks another queue, the slot asks that queue for a job while the result
   * is on its way (on that queue's own connection): both are in flight
   * together, so a slot that moves between queues waits no longer than one
   * that stays. One draw per job keeps the 6:3:1 ratio. Queues known to be
   * empty are skipped when the order is used, not drawn (which leaves the odds
   * between the other queues as they are).
   *
   * For that round trip the slot has two jobs active in Redis, the one it
   * finishes and the next. A blocking fetch may take a job too, so the two
   * kinds share one job per queue: no more fetches go beside a result than
   * there are queues without a blocking fetch or a held job, and a process
   * never has more jobs active than its slots plus one per queue. When none is
   * free, the slot asks once the result is written.
   */
  async #process({ job, token, fetcher }: Fetched): Promise<Fetched | undefined> {
    this.#log.info({ job: job.id, task: job.name, queue: job.queueName, attempt: job.attemptsMade + 1 }, 'job started');
    const order = this.#draw(this.#random);
    let chained = false;
    /** The fetch from another queue, sent beside the result. */
    let fetching: Promise<Fetched | undefined> | undefined;
    let next: Fetched | undefined;
    try {
      // BullMQ calls this when the handler is done, just before it writes the
      // result, and again if it has to write it again: the first fetch stands.
      // (Written inline: tsx names a function kept in a const, at a cost per job.)
      const chainedJob = await fetcher.processJob(job, token, () => {
        chained = false;
        if (fetching || this.#stopping || this.#emptyQueues.holding) return false;
        const queue = this.#firstWithWork(order);
        if (queue === fetcher.name) return (chained = true);
        if (queue && this.#fetchesBeside < this.#fetchers.size - this.#emptyQueues.watched) {
          this.#fetchesBeside++;
          fetching = this.#fetchFirst(order, { holdLock: true });
        }
        return false;
      });
      if (chainedJob) next = { job: chainedJob, token, fetcher };
      // BullMQ looked for this queue's next job, and found none.
      else if (chained) this.#emptyQueues.markEmpty(fetcher.name as QueueName);
    } catch (err) {
      // Redis being away is said once for the whole worker; the stalled check runs such a job again.
      if (isUnavailable(err)) this.#redisErrors.error(err, { job: job.id, while: 'recording the job result' });
      else this.#log.error({ err, job: job.id }, 'could not record the job result');
    }
    // A job fetched beside the result is this slot's next, whatever became of the result.
    if (fetching) {
      try {
        next = await fetching;
      } finally {
        this.#fetchesBeside--;
      }
    }
    // Held jobs go first, and the dispatcher runs them: free the slot.
    else if (!next && !this.#stopping && !this.#emptyQueues.holding) next = await this.#fetchFirst(order);
    if (next && this.#stopping) {
      // Fetched before shutdown began, handed back after: not ours to start.
      await this.#giveBack(next);
      return undefined;
    }
    return next;
  }

  /** #firstWithWork is the first queue of the order not known to be empty. */
  #firstWithWork(order: QueueName[]): QueueName | undefined {
    for (const queue of order) if (!this.#emptyQueues.isEmpty(queue)) return queue;
    return undefined;
  }

  async #giveBack({ job, token, fetcher }: Fetched): Promise<void> {
    try {
      await fetcher.giveBack(job, token);
      this.#log.info({ job: job.id, task: job.name }, 'job returned to its queue: this worker is stopping');
    } catch (err) {
      if (isUnavailable(err)) this.#redisErrors.error(err, { job: job.id, while: 'returning a job to its queue; the stalled check will' });
      else this.#log.warn({ err, job: job.id }, 'could not return the job; the stalled check will');
    }
  }
}

/** waitAll resolves true when every promise settles, or false after timeoutMs. */
async function waitAll(promises: Set<Promise<void>>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  const all = Promise.all(promises).then(() => true as const);
  const drained = await Promise.race([all, timeout]);
  clearTimeout(timer);
  return drained;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
