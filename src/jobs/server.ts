import { MetricsTime, type ConnectionOptions, type RedisOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
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
import { JobLines } from './job-lines.ts';
import { jobLogger, logJobEvents } from './job-log.ts';
import { queuePrefix } from './key-prefix.ts';
import { QueueFetcher, type Fetched } from './queue-fetcher.ts';
import { RedisErrorLog, redisAddress } from './redis-errors.ts';
import { isUnavailable } from './unavailable.ts';
import { DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './retry.ts';
import { Signal } from './signal.ts';
import { SpareJobs, type ComingSpare } from './spare-jobs.ts';
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
 * that run: a new job starts within milliseconds and nothing polls. A slot
 * that moves from one busy queue to another finds a job of that queue
 * waiting, most of the time, fetched for free with another slot's result
 * (see SpareJobs, in spare-jobs.ts).
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
  /** The two lines each job gets, started and done: cheap, as a busy worker writes thousands a second. */
  readonly #lines: JobLines;
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

  /** Jobs of busy queues fetched with another job's result, for the next slot that moves to their queue. */
  readonly #spares = new SpareJobs();

  /**
   * Slots in the middle of writing a result that hold one job more than they
   * run: their next job (a spare taken, or a fetch sent beside the result),
   * or the spare that the result brings back (see #process).
   */
  #finishingExtra = 0;
  #stopping = false;
  #dispatching: Promise<void> | undefined;
  /** The connection the queues share for their commands, when this server opened it (see sharedConnection). */
  readonly #ownConnection: Redis | undefined;

  constructor(connection: ConnectionOptions, mux: ServeMux, opts: ServerOptions = {}) {
    this.#concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number of 1 or more, got ${opts.concurrency}`);
    }
    this.#weights = opts.queues ?? DEFAULT_QUEUE_WEIGHTS;
    this.#draw = weightedDraw(this.#weights);
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS;
    this.#log = opts.logger ?? createLogger('worker');
    this.#lines = new JobLines(this.#log);
    this.#random = opts.random ?? Math.random;
    const policy = opts.retry ?? DEFAULT_RETRY_POLICY;
    // The queues' connections (one shared, one blocking each) all fail while Redis is down: they share one log of it.
    const redisErrors = new RedisErrorLog(this.#log, { where: redisAddress(connection), label: 'queue error' });
    this.#redisErrors = redisErrors;

    const shared =
      connection instanceof Redis || connection instanceof Cluster ? connection : (this.#ownConnection = sharedConnection(connection));
    for (const [queue, weight] of Object.entries(this.#weights) as [QueueName, number][]) {
      if (!(weight > 0)) continue;
      const fetcher = new QueueFetcher(queue, (job) => mux.process(job, jobLogger(this.#log, job)), {
        connection: shared,
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
      logJobEvents(fetcher, this.#log, this.#lines);
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
    const handingBack = Promise.all([this.#emptyQueues.close(), ...this.#spares.takeAll().map((spare) => this.#giveBack(spare))]);
    this.#changed.notify();
    await this.#dispatching;
    await handingBack;

    this.#log.info({ running: this.#busy.size }, 'worker stopping: waiting for running jobs');
    const drained = await waitAll(this.#busy, this.#shutdownTimeoutMs);
    if (!drained) this.#log.warn({ running: this.#busy.size }, 'shutdown timeout: leaving running jobs to the stalled check');
    // force: our jobs are done (or abandoned), so close without BullMQ's own wait.
    await Promise.all([...this.#fetchers.values()].map((fetcher) => fetcher.close(true)));
    // Nothing is left to send on it; disconnect, unlike quit, does not wait for a Redis that is away.
    this.#ownConnection?.disconnect();
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
   * empty, and takes the first job it finds: a queue's spare if one waits,
   * or else its next job in Redis. `beside`: the fetch goes beside a result
   * still being written, so it takes no spare (the slot looked already), and
   * the job's lock is renewed until it starts, as the slot may wait for that
   * write (BullMQ retries it while Redis is away).
   * It never throws: a failed fetch is logged, and the next queue tried a second later.
   */
  async #fetchFirst(order: QueueName[], { beside = false } = {}): Promise<Fetched | undefined> {
    for (const queue of order) {
      // A fetch beside a result comes after the slot looked for a spare, and is counted as one job more: it takes none.
      const spare = beside ? undefined : this.#spares.take(queue);
      if (spare) return spare;
      if (this.#emptyQueues.isEmpty(queue)) continue;
      const fetcher = this.#fetchers.get(queue)!;
      const token = fetcher.newToken();
      try {
        const job = await fetcher.getNextJob(token, { block: false });
        if (job && beside) fetcher.holdLock(job, token);
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
   * job without a round trip of its own. It draws the next queue by weight
   * before the result is written:
   * - A spare of the drawn queue waits, or is on its way with another slot's
   *   result (see SpareJobs): it is the next job.
   * - Else, when the draw picks this same queue, BullMQ hands back that
   *   queue's next job with the result (moveToCompleted's fetch-next).
   * - Else the slot asks the drawn queue for a job while the result is on its
   *   way: both are in flight together.
   * When the slot leaves this queue, the result still brings back this
   * queue's next job, as its spare, unless one waits already. One draw per job
   * keeps the 6:3:1 ratio. Queues known to be empty are skipped when the order
   * is used, not drawn (which leaves the odds between the other queues as
   * they are).
   *
   * While its result is written the slot has two jobs active in Redis, the
   * one it finishes and the next; a spare is active too. A blocking fetch may
   * take a job as well, so all these share one job per queue: a process never
   * has more jobs active than its slots plus one per queue. When none is
   * free, the slot asks once the result is written.
   */
  async #process({ job, token, fetcher }: Fetched): Promise<Fetched | undefined> {
    this.#lines.started(job);
    const queue = fetcher.name as QueueName;
    const order = this.#draw(this.#random);
    /** Whom the job BullMQ fetches with the result is for: this slot, or the next slot that comes to this queue. */
    let chainedFor: 'this slot' | 'a spare' | undefined;
    /** The spare of this queue that the result brings back, reserved. */
    let reserved: ComingSpare | undefined;
    /** This slot's next job while it comes: a spare claimed on its way, or a fetch sent beside the result. */
    let coming: Promise<Fetched | undefined> | undefined;
    let claimedSpare = false;
    let next: Fetched | undefined;
    /** Whether this slot counts in #finishingExtra. */
    let holdsExtra = false;
    try {
      // BullMQ calls this when the handler is done, just before it writes the
      // result, and again if it has to write it again: a next job, once
      // chosen, stands. (Written inline: tsx names a function kept in a
      // const, at a cost per job.)
      const chainedJob = await fetcher.processJob(job, token, () => {
        if (reserved) this.#spares.arrived(reserved, undefined);
        reserved = chainedFor = undefined;
        if (this.#stopping || this.#emptyQueues.holding) return false;
        if (!next && !coming) {
          const drawn = this.#firstWithWork(order);
          const spare = drawn && this.#spares.claim(drawn);
          if (spare instanceof Promise) [coming, claimedSpare] = [spare, true];
          else next = spare;
          if (!spare && drawn === queue) {
            chainedFor = 'this slot';
            return true;
          }
          if (!spare && drawn && !holdsExtra && this.#extraJobs() < this.#fetchers.size) {
            coming = this.#fetchFirst(order, { beside: true });
          }
          // A spare taken here leaves the count of extra jobs as it was. A fetch
          // beside adds one, and so does a spare claimed on its way, until this
          // slot has it (the slot that reserved it counts it too: the count
          // errs high, never low).
          if ((next || coming) && !holdsExtra) {
            holdsExtra = true;
            this.#finishingExtra++;
          }
        }
        if (this.#spares.has(queue)) return false;
        // The spare replaces the finished job in Redis: for a slot that has its
        // next job, it adds no job to the count; for a slot that will be free, one.
        if (!holdsExtra) {
          if (this.#extraJobs() >= this.#fetchers.size) return false;
          holdsExtra = true;
          this.#finishingExtra++;
        }
        reserved = this.#spares.reserve(queue);
        chainedFor = 'a spare';
        return true;
      });
      const chained = chainedJob ? { job: chainedJob, token, fetcher } : undefined;
      if (chainedFor === 'this slot') next = chained;
      else if (reserved && !this.#spares.arrived(reserved, chained)) void this.#giveBack(chained!);
      // BullMQ looked for this queue's next job, and found none.
      if (chainedFor && !chained) this.#emptyQueues.markEmpty(queue);
    } catch (err) {
      // Redis being away is said once for the whole worker; the stalled check runs such a job again.
      if (isUnavailable(err)) this.#redisErrors.error(err, { job: job.id, while: 'recording the job result' });
      else this.#log.error({ err, job: job.id }, 'could not record the job result');
    }
    // A spare that did not come frees its place (arrived() ends a reservation once).
    if (reserved) this.#spares.arrived(reserved, undefined);
    // A spare claimed on its way, or a job fetched beside the result, is this
    // slot's next, whatever became of the result.
    try {
      if (coming) next = await coming;
    } finally {
      if (holdsExtra) this.#finishingExtra--;
    }
    // Held jobs go first, and the dispatcher runs them: free the slot. A fetch
    // beside that found nothing went through every queue already.
    if (!next && (!coming || claimedSpare) && !this.#stopping && !this.#emptyQueues.holding) next = await this.#fetchFirst(order);
    if (next && this.#stopping) {
      // Fetched before shutdown began, handed back after: not ours to start.
      await this.#giveBack(next);
      return undefined;
    }
    return next;
  }

  /** #firstWithWork is the first queue of the order with a spare, or not known to be empty. */
  #firstWithWork(order: QueueName[]): QueueName | undefined {
    for (const queue of order) if (this.#spares.has(queue) || !this.#emptyQueues.isEmpty(queue)) return queue;
    return undefined;
  }

  /** #extraJobs counts the jobs this process has active in Redis beyond one per busy slot. It stays below one per queue. */
  #extraJobs(): number {
    return this.#finishingExtra + this.#spares.count + this.#emptyQueues.watched;
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

/**
 * sharedConnection opens the one connection that the queues share for their
 * commands: results, fetches, lock renewals. With every queue busy, Redis and
 * this process then read one stream of replies rather than one per queue,
 * as they do with one busy queue. (A client handed in, such as a Redis
 * Cluster client, is shared as it is.) BullMQ still gives each queue's
 * blocking fetch a connection of its own, a duplicate of this one. Like
 * BullMQ's own worker connections, it waits out an outage rather than
 * failing a command after a few retries.
 */
function sharedConnection(options: RedisOptions & { url?: string }): Redis {
  const { url, ...rest } = options;
  const settings = { ...rest, maxRetriesPerRequest: null };
  return url ? new Redis(url, settings) : new Redis(settings);
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
