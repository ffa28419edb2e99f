// The outbox relay's throughput: an outbox full of the jobs that orders write
// (bench/outbox-fill.ts), sent into Redis by the real OutboxRelay, as the API
// runs it (kick, then it goes on until the outbox is empty), against a bare
// BullMQ `queue.addBulk` of the same jobs (ids `outbox-<row id>`, the
// JobsClient's options, the same delays) in batches of the relay's size.
// Each round of each kind starts from a copy of one filled SQLite file and
// sends to a fresh prefix; the rounds alternate which kind goes first, after
// one warm-up round of each on a smaller file. Printed: the median of the
// rounds' relay/bare rows/s ratios.
//
// `npm run bench` runs it as one of its sections; on its own, with the API's
// outbox under a burst of orders after it (skip that with --no-api):
//   node --import tsx bench/relay.ts [--rows N] [--rounds N] [--no-api]
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { openDatabase } from '../src/db/database.ts';
import { OutboxRepo, type OutboxEntry } from '../src/db/outbox.ts';
import { freePort } from '../src/dev/free-port.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { JobsClient } from '../src/jobs/client.ts';
import { producerConnection } from '../src/jobs/connection.ts';
import type { QueueName } from '../src/jobs/defaults.ts';
import { RELAY_BATCH_SIZE } from '../src/jobs/outbox-jobs.ts';
import { OutboxRelay } from '../src/jobs/outbox.ts';
import { apiLoad } from './api-load.ts';
import { goal, loadLine, perSecond, ratio, seconds } from './format.ts';
import { machineLoad } from './learner-loop.ts';
import { median } from './median.ts';
import { describeJobs, fillOutbox, type FilledOutbox } from './outbox-fill.ts';
import { arg } from './arg.ts';

/** The goals: the relay's rows/s against the bare addBulk's, and how soon after a burst of orders the outbox is empty. */
export const RELAY_GOAL = 0.8;
export const DRAIN_GOAL_MS = 1_000;
/** The drain goal holds at this many connections; other counts are printed for information. */
export const DRAIN_GOAL_CONNECTIONS = 50;

/** How many rows the relay reads per pass, and so the bare addBulk's batch size. */
const BATCH = RELAY_BATCH_SIZE;

export interface RelayOptions {
  redisUrl: string;
  /** A fresh BullMQ prefix for each round. */
  prefix: () => string;
  /** Rows in the outbox for each timed round (rounded up to whole orders). */
  rows: number;
  /** Timed rounds per kind. */
  rounds: number;
  /** A folder for the SQLite files. */
  dir: string;
}

/** One round's wall time of each kind, in ms. */
export interface RelayRound {
  relay: number;
  bare: number;
}

export interface RelayResults {
  filled: FilledOutbox;
  rounds: RelayRound[];
}

/** relayThroughput measures both kinds, round after round; see the top of this file. */
export async function relayThroughput(opts: RelayOptions): Promise<RelayResults> {
  const warmupFile = join(opts.dir, 'outbox-warmup.db');
  const file = join(opts.dir, 'outbox.db');
  const warmup = fillOutbox(warmupFile, Math.ceil(opts.rows / 10));
  const filled = fillOutbox(file, opts.rows);
  let copies = 0;
  const runRelay = async (source: string) => {
    const copy = join(opts.dir, `relay-${copies++}.db`);
    await copyFile(source, copy);
    try {
      return await relayRound(copy, queueNames(filled.rows), opts.redisUrl, opts.prefix());
    } finally {
      await rm(copy, { force: true });
    }
  };

  await runRelay(warmupFile);
  await bareRound(warmup.rows, opts.redisUrl, opts.prefix());
  const rounds: RelayRound[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    // Take turns going first, so that a drift of the machine's speed does not always favour one kind.
    if (round % 2 === 0) {
      const relay = await runRelay(file);
      rounds.push({ relay, bare: await bareRound(filled.rows, opts.redisUrl, opts.prefix()) });
    } else {
      const bare = await bareRound(filled.rows, opts.redisUrl, opts.prefix());
      rounds.push({ relay: await runRelay(file), bare });
    }
  }
  return { filled, rounds };
}

/**
 * relayRound opens the outbox file as the API does (openDatabase, a fail-fast
 * Redis connection, a JobsClient), kicks an OutboxRelay once and times it
 * until it is idle. It throws if rows are left unsent or dead then, or if
 * Redis does not hold one job per row.
 */
async function relayRound(file: string, queues: QueueName[], redisUrl: string, prefix: string): Promise<number> {
  const db = openDatabase(file);
  const outbox = new OutboxRepo(db);
  const redis = producerConnection({ redisUrl });
  const client = new JobsClient(redis, { prefix });
  const warnings: string[] = [];
  const relay = new OutboxRelay(outbox, client, pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }));
  try {
    if (redis.status !== 'ready') await once(redis, 'ready');
    // The API's queues are open long before a burst: open these before the clock starts.
    await Promise.all(queues.map((name) => client.queue(name).waitUntilReady()));
    const rows = outbox.countPending();
    const startedAt = performance.now();
    relay.kick();
    await relay.idle();
    const ms = performance.now() - startedAt;
    const [unsent, dead] = [outbox.countPending(), outbox.countDead()];
    if (unsent > 0 || dead > 0) throw new Error(`the relay went idle with ${unsent} of ${rows} rows unsent and ${dead} dead ${warnings.join('')}`);
    await expectJobs(queues.map((name) => client.queue(name)), rows, 'relay');
    await Promise.all(queues.map((name) => client.queue(name).obliterate({ force: true })));
    return ms;
  } finally {
    await relay.stop();
    await client.close();
    redis.disconnect();
    db.close();
  }
}

/**
 * bareRound adds the rows' jobs with `queue.addBulk`, one call per queue (the
 * queues at once) for each batch of BATCH rows, one batch after the other, as
 * a relay pass would without the database; it returns the wall time in ms.
 */
async function bareRound(rows: OutboxEntry[], redisUrl: string, prefix: string): Promise<number> {
  const queues = new Map(queueNames(rows).map((name) => [name, new Queue(name, { connection: { url: redisUrl }, prefix })]));
  // Only for its job options (attempts, backoff, how many finished jobs to keep): it opens no connection.
  const client = new JobsClient({});
  try {
    await Promise.all([...queues.values()].map((queue) => queue.waitUntilReady()));
    const startedAt = performance.now();
    for (let from = 0; from < rows.length; from += BATCH) {
      const now = Date.now();
      const batch = rows.slice(from, from + BATCH);
      await Promise.all(
        [...queues].map(([name, queue]) => {
          const jobs = batch
            .filter((row) => row.queue === name)
            .map((row) => ({ name: row.task, data: row.payload, opts: { ...client.jobOptions({ jobId: `outbox-${row.id}` }), delay: Math.max(0, row.runAt - now) } }));
          return jobs.length > 0 ? queue.addBulk(jobs) : undefined;
        }),
      );
    }
    const ms = performance.now() - startedAt;
    await expectJobs([...queues.values()], rows.length, 'bare addBulk');
    await Promise.all([...queues.values()].map((queue) => queue.obliterate({ force: true })));
    return ms;
  } finally {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  }
}

function queueNames(rows: OutboxEntry[]): QueueName[] {
  return [...new Set(rows.map((row) => row.queue as QueueName))];
}

/** expectJobs throws unless the queues hold `count` jobs waiting or delayed, so that no round is timed on work it skipped. */
async function expectJobs(queues: Queue[], count: number, kind: string): Promise<void> {
  const counts = await Promise.all(queues.map((queue) => queue.count()));
  const held = counts.reduce((sum, n) => sum + n, 0);
  if (held !== count) throw new Error(`${kind}: Redis holds ${held} jobs for ${count} outbox rows`);
}

export function relayTitle(opts: Pick<RelayOptions, 'rows' | 'rounds'>): string {
  return `Outbox relay: OutboxRelay vs a bare queue.addBulk, ${opts.rows} rows of orders' jobs, batches of ${BATCH} (${opts.rounds} rounds after a warm-up, interleaved; ${machineLoad()})`;
}

export function relayLines({ filled, rounds }: RelayResults): string[] {
  const rows = filled.rows.length;
  const ratios = rounds.map((round) => round.bare / round.relay);
  const relayRatio = median(ratios);
  const rate = (kind: keyof RelayRound) => perSecond(median(rounds.map((round) => (rows * 1000) / round[kind])), 'rows');
  return [
    `  ${rows} rows from ${filled.orders} orders: ${describeJobs(filled)}`,
    `  relay rows/s vs bare addBulk: ${ratio(relayRatio)} ${goal(relayRatio >= RELAY_GOAL, `≥ ${RELAY_GOAL}x`)}` +
      ` (rounds: ${ratios.map(ratio).join(', ')}; medians ${rate('relay')} vs ${rate('bare')}); ${machineLoad()}`,
  ];
}

/** drainLine says how far behind the relay was when a burst of orders ended, and how soon the outbox was empty after it. */
export function drainLine(connections: number, backlog: { rows: number; drainMs: number }): string {
  const drainGoal = connections === DRAIN_GOAL_CONNECTIONS ? ` ${goal(backlog.drainMs <= DRAIN_GOAL_MS, `≤ ${DRAIN_GOAL_MS / 1000} s`)}` : '';
  return `outbox rows unsent at the burst's end: ${backlog.rows}; outbox empty within ${seconds(backlog.drainMs)} of the burst's end${drainGoal}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = Number(arg('--rows') ?? 20_000);
  const rounds = Number(arg('--rounds') ?? 5);
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'bench-relay-'));
  const redis = await startLocalRedis(port, join(dir, 'redis'));
  const redisUrl = `redis://127.0.0.1:${port}`;
  const startedAt = performance.now();
  let run = 0;
  const prefix = () => `relay-${run++}`;
  try {
    console.log(`Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; Redis ${redis.version}; ${machineLoad()}`);
    console.log(relayTitle({ rows, rounds }));
    for (const line of relayLines(await relayThroughput({ redisUrl, prefix, rows, rounds, dir }))) console.log(line);
    if (!process.argv.includes('--no-api')) {
      const connections = DRAIN_GOAL_CONNECTIONS;
      console.log(`API process under a burst of orders: autocannon, ${connections} connections, 4 s, fresh SQLite file, info logs to a pipe (${machineLoad()})`);
      const loadRun = await apiLoad({ redisUrl, prefix: prefix(), connections: [connections], seconds: 4, routes: ['orders'] });
      console.log(`  ${loadLine('POST /api/orders', loadRun.results.get(connections)!.orders!)}`);
      console.log(`  ${drainLine(connections, loadRun.outboxBacklog.get(connections)!)}`);
    }
    console.log(`Done in ${seconds(performance.now() - startedAt)}`);
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
